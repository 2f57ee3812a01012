// The search page: every text shown is set with textContent, so names stay text.
"use strict";

const K = 10;
const $ = (id) => document.getElementById(id);

function formatDuration(seconds) {
  if (seconds == null || !isFinite(seconds)) return "";
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function resultRow(hit) {
  const row = element("li", "hit");
  const head = element("div", "hit-head");
  head.append(
    element("span", "rank", `${hit.rank}.`),
    element("span", "path", hit.path),
    element("span", "duration", formatDuration(hit.duration)),
    element("span", "score", hit.score.toFixed(3)),
  );
  const parts = [head];
  if (hit.tags && hit.tags.length) parts.push(element("div", "tags", hit.tags.join(" · ")));
  const player = element("audio");
  player.controls = true;
  player.preload = "none";
  player.src = hit.audio_url;
  row.append(...parts, player);
  return row;
}

async function showResults(request, label) {
  const status = $("status");
  status.className = "";
  status.textContent = `Searching for ${label}…`;
  let response;
  try {
    response = await request;
  } catch (error) {
    status.className = "error";
    status.textContent = "The server cannot be reached; is task=serve still running?";
    return;
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = body && typeof body.detail === "string" ? body.detail : response.statusText;
    status.className = "error";
    status.textContent = detail;
    return;
  }
  $("results").replaceChildren(...body.map(resultRow));
  status.textContent = `${body.length} tracks closest to ${label}`;
}

function searchText(event) {
  event.preventDefault();
  const q = $("query").value.trim();
  if (!q) {
    $("status").textContent = "Type a description first.";
    return;
  }
  const params = new URLSearchParams({ q, k: K });
  showResults(fetch(`/api/search?${params}`), `“${q}”`);
}

function searchAudio(file) {
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  form.append("k", K);
  showResults(fetch("/api/search/audio", { method: "POST", body: form }), file.name);
}

async function showInfo() {
  try {
    const info = await (await fetch("/api/info")).json();
    $("info").textContent = `${info.tracks} tracks in ${info.root} · model ${info.model}`;
  } catch (error) {
    $("info").textContent = "The index could not be read.";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const drop = $("drop");
  $("text-search").addEventListener("submit", searchText);
  $("file").addEventListener("change", (event) => searchAudio(event.target.files[0]));
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    searchAudio(event.dataTransfer.files[0]);
  });
  showInfo();
});
