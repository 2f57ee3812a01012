"""The ten styles (genre labels): groove, harmony, tempo, meter and who plays what."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    """Everything that makes a genre sound like itself; roles are listed by priority."""

    label: str
    names: tuple[str, ...]  # how a caption names the genre; names[0] is the label
    nouns: tuple[str, ...]  # noun phrases for "a ... with piano"
    tempo: tuple[int, int]
    beats: int  # quarter notes per bar
    swing: float  # where the off-beat eighth falls in the beat: 0.5 straight, 0.67 triplet
    minor_prob: float
    loud_prob: float
    textures: tuple[float, float, float]  # weights of solo, small group, full band
    progressions: dict[str, tuple[str, ...]]
    chord_bars: float  # bars each chord lasts
    roles: tuple[str, ...]
    players: dict[str, tuple[str, ...]]
    grooves: tuple[str, ...] = ()
    bass: str = "root_fifth"
    comp: str = "sustain"
    voicing: str = "triad"
    lead_grid: int = 2  # steps between possible melody onsets
    lead_density: float = 0.6
    solo: tuple[str, ...] = ()
    features: tuple[tuple[str, str], ...] = ()  # (phrase, role that must play for it, or "")
    arpeggio: bool = False  # the lead plays broken chords instead of a melody


# Positional fields follow the dataclass order; the table is data, so it keeps its layout.
# fmt: off
STYLES: tuple[Style, ...] = (
    Style(
        "rock", ("rock", "rock and roll", "guitar rock"),
        ("rock track", "rock song", "rock tune", "rock instrumental"),
        (96, 160), 4, 0.5, 0.35, 0.8, (0.0, 0.35, 0.65),
        {"major": ("I V vi IV", "I IV V IV", "I bVII IV I"),
         "minor": ("i bVI bIII bVII", "i bVII bVI bVII", "i iv bVI v")},
        1, ("chords", "drums", "bass", "lead", "pad"),
        {"chords": ("distorted guitar", "overdriven guitar"),
         "drums": ("rock drums", "drums", "room drums"),
         "bass": ("picked bass", "electric bass"),
         "lead": ("overdriven guitar", "distorted guitar", "organ"),
         "pad": ("organ",)},
        ("rock_backbeat", "rock_drive"), "eighths", "eighths", "power", 2, 0.55, (),
        (("a pounding backbeat", "drums"), ("power chords", "chords")),
    ),
    Style(
        "jazz", ("jazz", "swing jazz", "jazz swing"),
        ("jazz tune", "jazz track", "jazz number", "jazz piece"),
        (72, 190), 4, 0.67, 0.3, 0.35, (0.1, 0.5, 0.4),
        {"major": ("ii7 V7 Imaj7 vi7", "Imaj7 vi7 ii7 V7", "iii7 vi7 ii7 V7"),
         "minor": ("iim7b5 V7 i7 i7", "i7 iv7 iim7b5 V7")},
        1, ("chords", "bass", "drums", "lead"),
        {"chords": ("piano", "jazz guitar", "electric piano"),
         "bass": ("upright bass",),
         "drums": ("jazz drums", "brushed drums"),
         "lead": ("tenor saxophone", "alto saxophone", "trumpet", "muted trumpet", "trombone")},
        ("jazz_ride",), "walking", "charleston", "seventh", 2, 0.65, ("piano",),
        (("a swing feel", ""), ("a walking bass line", "bass"), ("a ride cymbal pattern", "drums")),
    ),
    Style(
        "waltz", ("waltz", "viennese waltz", "ballroom waltz"),
        ("waltz", "waltz tune", "waltz piece"),
        (84, 184), 3, 0.5, 0.35, 0.4, (0.1, 0.4, 0.5),
        {"major": ("I I V V", "I IV V I", "I V V I"), "minor": ("i iv V i", "i V i V")},
        1, ("chords", "bass", "lead", "pad", "drums"),
        {"chords": ("piano", "accordion", "pizzicato strings", "string ensemble"),
         "bass": ("tuba", "upright bass", "cello"),
         "lead": ("violin", "flute", "accordion", "clarinet"),
         "pad": ("string ensemble", "french horn"),
         "drums": ("brushed drums", "drums")},
        ("waltz",), "waltz", "oom_pah_pah", "triad", 4, 0.7, ("piano", "accordion"),
        (("a lilting three-four meter", ""), ("an oom-pah-pah accompaniment", "chords")),
    ),
    Style(
        "reggae", ("reggae", "roots reggae", "jamaican reggae"),
        ("reggae track", "reggae tune", "reggae groove", "reggae song"),
        (64, 96), 4, 0.55, 0.5, 0.6, (0.0, 0.3, 0.7),
        {"major": ("I IV", "I V vi IV", "I ii"), "minor": ("i iv", "i bVII", "i bVI bVII i")},
        1, ("chords", "bass", "drums", "pad", "lead"),
        {"chords": ("electric guitar", "organ"),
         "bass": ("electric bass",),
         "drums": ("drums", "room drums"),
         "pad": ("organ",),
         "lead": ("trumpet", "tenor saxophone", "harmonica", "organ")},
        ("one_drop",), "reggae", "skank", "triad", 2, 0.45, (),
        (("an offbeat skank", "chords"), ("a one-drop beat", "drums"), ("a deep bass line", "bass")),
    ),
    Style(
        "electronic", ("electronic", "electronic dance", "techno"),
        ("electronic track", "electronic dance track", "electronic tune", "techno track"),
        (116, 140), 4, 0.5, 0.6, 0.75, (0.0, 0.4, 0.6),
        {"major": ("I V vi IV", "vi IV I V", "IV I V vi"),
         "minor": ("i bVI bIII bVII", "i bVII bVI bVII", "i iv bVI bVII")},
        1, ("drums", "bass", "pad", "lead"),
        {"drums": ("drum machine", "808 drum machine"),
         "bass": ("synth bass",),
         "pad": ("synth pad", "polysynth", "synth strings"),
         "lead": ("synth lead", "square lead")},
        ("four_on_the_floor",), "offbeat", "sustain", "triad", 1, 1.0, (),
        (("a four-on-the-floor beat", "drums"), ("a pulsing synth bass", "bass"),
         ("an arpeggiated synth", "lead")),
        arpeggio=True,
    ),
    Style(
        "classical", ("classical", "classical chorale", "hymn-like classical"),
        ("classical piece", "classical chorale", "classical composition", "classical hymn"),
        (50, 104), 4, 0.5, 0.4, 0.4, (0.2, 0.4, 0.4),
        {"major": ("I IV V I", "I vi ii V", "I IV I V", "I V vi iii IV I IV V"),
         "minor": ("i iv V i", "i bVI iv V", "i iv i V")},
        0.5, ("chords", "bass", "lead", "pad"),
        {"chords": ("church organ", "string ensemble", "choir", "brass section"),
         "bass": ("cello", "tuba", "upright bass"),
         "lead": ("flute", "oboe", "violin", "trumpet", "clarinet"),
         "pad": ("string ensemble", "choir", "french horn", "vocal oohs")},
        (), "sustain", "half_notes", "satb", 4, 0.8, ("church organ", "piano"),
        (("block chords", "chords"), ("four-part harmony", "chords")),
    ),
    Style(
        "folk", ("folk", "acoustic folk", "folk-style"),
        ("folk song", "folk tune", "folk ballad", "folk track"),
        (80, 140), 4, 0.5, 0.25, 0.4, (0.15, 0.5, 0.35),
        {"major": ("I IV I V", "I V IV I", "I IV V I"),
         "minor": ("i bVII i bVII", "i bIII bVII i", "i iv i V")},
        1, ("chords", "lead", "bass", "drums"),
        {"chords": ("acoustic guitar",),
         "lead": ("fiddle", "tin whistle", "harmonica", "flute", "accordion"),
         "bass": ("upright bass",),
         "drums": ("drums", "brushed drums")},
        ("folk_light",), "root_fifth", "strum", "triad", 2, 0.6, ("acoustic guitar",),
        (("strummed acoustic chords", "chords"), ("a simple melody", "lead")),
    ),
    Style(
        "funk", ("funk", "funky", "funk groove"),
        ("funk track", "funk groove", "funk jam", "funk tune"),
        (92, 124), 4, 0.5, 0.6, 0.7, (0.0, 0.3, 0.7),
        {"major": ("I9 IV9", "I9 I9 IV9 IV9", "I7 IV7"),
         "minor": ("i7 IV9", "i7 i7 iv7 bVII9", "i7 iv7")},
        1, ("bass", "drums", "chords", "lead", "pad"),
        {"bass": ("slap bass", "electric bass"),
         "drums": ("drums", "room drums"),
         "chords": ("clavinet", "muted guitar", "electric piano"),
         "lead": ("brass section", "alto saxophone", "trumpet"),
         "pad": ("brass section", "organ")},
        ("funk_sixteenths",), "funk", "funk_stabs", "seventh", 1, 0.3, (),
        (("a syncopated sixteenth-note groove", "drums"), ("a syncopated bass line", "bass"),
         ("choppy chord stabs", "chords")),
    ),
    Style(
        "blues", ("blues", "shuffle blues", "twelve-bar blues"),
        ("blues tune", "blues track", "blues number", "blues song"),
        (60, 120), 4, 0.67, 0.3, 0.5, (0.1, 0.45, 0.45),
        {"major": ("I7 IV7 I7 I7 IV7 IV7 I7 I7 V7 IV7 I7 V7", "I7 I7 I7 I7 IV7 IV7 I7 I7"),
         "minor": ("i7 iv7 i7 i7 iv7 iv7 i7 i7 bVI7 V7 i7 V7", "i7 i7 iv7 iv7")},
        1, ("chords", "bass", "drums", "lead"),
        {"chords": ("piano", "overdriven guitar", "electric guitar", "organ"),
         "bass": ("electric bass", "upright bass"),
         "drums": ("drums", "room drums"),
         "lead": ("harmonica", "overdriven guitar", "tenor saxophone")},
        ("shuffle",), "boogie", "shuffle_comp", "seventh", 2, 0.55, ("piano", "acoustic guitar"),
        (("a shuffle rhythm", ""), ("a boogie bass line", "bass"), ("bluesy licks", "lead")),
    ),
    Style(
        "latin", ("latin", "bossa nova", "latin bossa nova"),
        ("latin tune", "bossa nova tune", "latin groove", "latin track"),
        (100, 150), 4, 0.5, 0.35, 0.3, (0.1, 0.5, 0.4),
        {"major": ("ii7 V7 Imaj7 Imaj7", "Imaj7 IVmaj7 ii7 V7", "Imaj7 vi7 ii7 V7"),
         "minor": ("i7 iv7 V7 i7", "iim7b5 V7 i7 i7")},
        1, ("chords", "bass", "drums", "lead"),
        {"chords": ("nylon guitar", "electric piano", "piano"),
         "bass": ("upright bass", "electric bass"),
         "drums": ("drums", "brushed drums", "room drums"),
         "lead": ("flute", "alto saxophone", "tenor saxophone", "trumpet")},
        ("bossa", "latin_congas"), "bossa", "bossa_comp", "seventh", 2, 0.55,
        ("nylon guitar", "piano"),
        (("a bossa nova rhythm", ""), ("syncopated latin percussion", "drums")),
    ),
)
# fmt: on

STYLE_BY_LABEL: dict[str, Style] = {style.label: style for style in STYLES}
GENRES: tuple[str, ...] = tuple(style.label for style in STYLES)
