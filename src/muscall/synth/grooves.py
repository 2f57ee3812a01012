"""Drum grooves and chord-comping rhythms, written on a sixteenth-note grid.

A drum line is one character per sixteenth: '.' rest, 'o' ghost, 'x' hit, 'X' accent. A
groove may span several bars; it repeats. Comping rhythms are (step, length) pairs per bar.
"""

from __future__ import annotations

KICK, SIDE_STICK, SNARE, CLAP, CLOSED_HAT = 36, 37, 38, 39, 42
PEDAL_HAT, OPEN_HAT, CRASH, RIDE, TAMBOURINE = 44, 46, 49, 51, 54
HIGH_CONGA, LOW_CONGA, CABASA, MARACAS = 63, 64, 69, 70

ACCENTS = {"o": 0.45, "x": 0.8, "X": 1.0}

DRUM_GROOVES: dict[str, dict[int, str]] = {
    "rock_backbeat": {
        KICK: "x.......x.x.....",
        SNARE: "....X.......X...",
        CLOSED_HAT: "X.x.X.x.X.x.X.x.",
    },
    "rock_drive": {
        KICK: "x.....x.x.......",
        SNARE: "....X.......X...",
        CLOSED_HAT: "XxxxXxxxXxxxXxxx",
    },
    "jazz_ride": {
        RIDE: "X...x.x.X...x.x.",
        PEDAL_HAT: "....x.......x...",
        KICK: "o...o...o...o...",
        SNARE: "..........o.....",
    },
    "waltz": {
        KICK: "x...........",
        SNARE: "....o...o...",
        CLOSED_HAT: "x...x...x...",
    },
    "one_drop": {
        KICK: "........X.......",
        SIDE_STICK: "........X.......",
        CLOSED_HAT: "x.x.x.x.x.x.x.x.",
    },
    "four_on_the_floor": {
        KICK: "X...X...X...X...",
        CLAP: "....x.......x...",
        CLOSED_HAT: "o.o.o.o.o.o.o.o.",
        OPEN_HAT: "..x...x...x...x.",
    },
    "folk_light": {
        KICK: "x.......x.......",
        TAMBOURINE: "....x.......x...",
    },
    "funk_sixteenths": {
        KICK: "x.....x...x..x..",
        SNARE: "....X..o.o..X..o",
        CLOSED_HAT: "XxxxXxxxXxxxXxxx",
    },
    "shuffle": {
        KICK: "x.......x.......",
        SNARE: "....X.......X...",
        CLOSED_HAT: "X.x.X.x.X.x.X.x.",
    },
    "bossa": {
        KICK: "x..xx..xx..xx..x",
        SIDE_STICK: "x..x..x...x..x....x..x..x..x....",
        CABASA: "xoxoxoxoxoxoxoxo",
    },
    "latin_congas": {
        KICK: "x.......x.......",
        HIGH_CONGA: "..x...x...x.x.x.",
        LOW_CONGA: "x...x.......x...",
        MARACAS: "xoxoxoxoxoxoxoxo",
    },
}

# Per bar: (step, length in steps). A list of bars cycles, so comping is not a loop of one.
# "sustain" (the whole bar, in any meter) is built where it is used.
COMP_RHYTHMS: dict[str, tuple[tuple[tuple[int, int], ...], ...]] = {
    "eighths": (tuple((s, 2) for s in range(0, 16, 2)),),
    "charleston": (((0, 3), (6, 2)), ((2, 2), (10, 3)), ((0, 2), (6, 2), (12, 2))),
    "oom_pah_pah": (((4, 3), (8, 3)),),
    "skank": (((4, 1), (12, 1)),),
    "half_notes": (((0, 8), (8, 8)),),
    "strum": (((0, 2), (4, 2), (6, 2), (10, 2), (12, 2), (14, 2)),),
    "funk_stabs": (((0, 1), (3, 1), (6, 1), (8, 1), (10, 1), (13, 1), (14, 1)),),
    "shuffle_comp": (((0, 3), (4, 2), (6, 1), (8, 3), (12, 2), (14, 1)),),
    "bossa_comp": (((0, 2), (3, 2), (6, 3), (10, 2), (13, 3)), ((2, 2), (6, 2), (10, 3))),
}
