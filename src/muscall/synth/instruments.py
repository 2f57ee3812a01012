"""General MIDI instruments the generator uses, grouped into families that captions name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    """A GM preset with the names a caption may use for it and the range it plays in."""

    name: str
    program: int
    family: str
    aliases: tuple[str, ...] = ()
    low: int = 48
    high: int = 84
    bank: int = 0
    # MIDI CC7, measured so that every preset plays a line at about the same level (the
    # soundfont's presets differ by 20 dB); roles are then balanced by velocity.
    volume: int = 127

    @property
    def is_drums(self) -> bool:
        return self.family == "drums"

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


def _kit(name: str, preset: int, aliases: tuple[str, ...], volume: int) -> Instrument:
    return Instrument(name, preset, "drums", aliases, 35, 81, bank=128, volume=volume)


# The table is data: one preset per line reads better than ruff's wrapping.
# fmt: off
_TABLE = (
    Instrument("piano", 0, "piano", ("acoustic piano", "grand piano"), 36, 88, volume=127),
    Instrument("electric piano", 4, "piano", ("rhodes", "electric keys"), 40, 84, volume=99),
    Instrument("clavinet", 7, "piano", ("funky clavinet", "clav"), 48, 84, volume=127),
    Instrument("organ", 16, "organ", ("hammond organ", "electric organ"), 40, 84, volume=102),
    Instrument("church organ", 19, "organ", ("pipe organ",), 36, 84, volume=118),
    Instrument("accordion", 21, "accordion", ("squeezebox",), 48, 84, volume=119),
    Instrument("harmonica", 22, "harmonica", ("mouth harp",), 60, 84, volume=96),
    Instrument("nylon guitar", 24, "guitar", ("spanish guitar", "nylon-string guitar"), 40, 79, volume=96),
    Instrument("acoustic guitar", 25, "guitar", ("steel-string guitar",), 40, 79, volume=114),
    Instrument("jazz guitar", 26, "guitar", ("hollow-body guitar",), 40, 79, volume=88),
    Instrument("electric guitar", 27, "guitar", ("clean electric guitar",), 40, 79, volume=119),
    Instrument("muted guitar", 28, "guitar", ("palm-muted guitar", "funk guitar"), 40, 79, volume=98),
    Instrument("overdriven guitar", 29, "guitar", ("crunchy electric guitar",), 40, 79, volume=117),
    Instrument("distorted guitar", 30, "guitar", ("heavy electric guitar",), 40, 79, volume=105),
    Instrument("upright bass", 32, "bass", ("double bass", "acoustic bass"), 28, 55, volume=83),
    Instrument("electric bass", 33, "bass", ("bass guitar", "fingered bass"), 28, 55, volume=80),
    Instrument("picked bass", 34, "bass", ("electric bass", "bass guitar"), 28, 55, volume=94),
    Instrument("slap bass", 36, "bass", ("slapped bass", "funky bass"), 28, 55, volume=81),
    Instrument("synth bass", 38, "bass", ("analog synth bass", "bass synth"), 28, 55, volume=79),
    Instrument("tuba", 58, "brass", ("brass bass",), 28, 55, volume=93),
    Instrument("violin", 40, "strings", (), 55, 93, volume=86),
    Instrument("cello", 42, "strings", ("violoncello",), 36, 72, volume=86),
    Instrument("string ensemble", 48, "strings", ("strings", "string section"), 40, 84, volume=122),
    Instrument("pizzicato strings", 45, "strings", ("plucked strings",), 40, 84, volume=104),
    Instrument("harp", 46, "strings", ("concert harp",), 36, 88, volume=70),
    Instrument("fiddle", 110, "strings", ("folk fiddle",), 55, 88, volume=93),
    Instrument("trumpet", 56, "brass", (), 55, 82, volume=86),
    Instrument("trombone", 57, "brass", ("slide trombone",), 40, 70, volume=106),
    Instrument("muted trumpet", 59, "brass", ("harmon-muted trumpet",), 55, 82, volume=113),
    Instrument("french horn", 60, "brass", ("horn",), 41, 72, volume=78),
    Instrument("brass section", 61, "brass", ("horns", "horn section"), 48, 80, volume=119),
    Instrument("alto saxophone", 65, "woodwind", ("alto sax", "saxophone"), 49, 81, volume=82),
    Instrument("tenor saxophone", 66, "woodwind", ("tenor sax", "saxophone"), 44, 75, volume=108),
    Instrument("clarinet", 71, "woodwind", (), 50, 86, volume=96),
    Instrument("flute", 73, "woodwind", ("concert flute",), 60, 93, volume=74),
    Instrument("oboe", 68, "woodwind", (), 58, 88, volume=75),
    Instrument("tin whistle", 78, "woodwind", ("penny whistle", "whistle"), 62, 93, volume=77),
    Instrument("synth lead", 81, "synth", ("sawtooth lead", "lead synth"), 55, 88, volume=114),
    Instrument("square lead", 80, "synth", ("chiptune lead", "square-wave synth"), 55, 88, volume=119),
    Instrument("synth pad", 89, "synth", ("warm pad", "pad"), 48, 84, volume=101),
    Instrument("polysynth", 90, "synth", ("poly synth", "synth chords"), 48, 84, volume=114),
    Instrument("synth strings", 50, "synth", ("string synth",), 48, 84, volume=127),
    Instrument("choir", 52, "choir", ("choir aahs", "vocal choir", "voices"), 48, 79, volume=94),
    Instrument("vocal oohs", 53, "choir", ("humming voices", "choir"), 48, 79, volume=110),
    _kit("drums", 0, ("a drum kit", "drum kit"), 108),
    _kit("rock drums", 16, ("rock kit", "drums", "drum kit"), 101),
    _kit("room drums", 8, ("live drums", "drums", "drum kit"), 91),
    _kit("jazz drums", 32, ("a jazz kit", "drums", "jazz kit"), 108),
    _kit("brushed drums", 40, ("brushes", "drums with brushes", "drums"), 121),
    _kit("drum machine", 24, ("electronic drums", "programmed beats", "drums"), 94),
    _kit("808 drum machine", 25, ("808 drums", "drum machine", "drums"), 94),
)
# fmt: on

INSTRUMENTS: dict[str, Instrument] = {inst.name: inst for inst in _TABLE}

# Families listed in zero-shot tagging sets, in a fixed order.
FAMILIES = (
    "piano",
    "organ",
    "accordion",
    "harmonica",
    "guitar",
    "bass",
    "strings",
    "brass",
    "woodwind",
    "synth",
    "choir",
    "drums",
)


def instrument(name: str) -> Instrument:
    """The instrument called `name` in the table."""
    return INSTRUMENTS[name]
