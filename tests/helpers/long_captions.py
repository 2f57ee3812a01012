"""Captions as long as MusicCaps' (40-90 words, three to six sentences), written for the tests.

MusicCaps' published captions run 46 words at the median and 81 at the p95 (docs/captions.md);
the built-in dataset's run about a dozen. These describe instruments, playing, production,
mood and a use, in the order and register MusicCaps' annotators write them.
"""

LONG_CAPTIONS = (
    "This is a live recording of a jazz trio playing in a small club. The upright bass walks "
    "steadily under a brushed snare and a ride cymbal. The piano plays a bluesy melody with "
    "chords in the left hand and fast runs in the right. Glasses clink and people talk in the "
    "background. The recording quality is average and a little muffled. This song may be "
    "playing in a late night bar.",
    "The low quality recording features a reggaeton song with a male voice rapping over a fast "
    "dembow beat. A deep synth bass follows the kick drum while a plucked synth repeats a short "
    "melody. There are claps on every second beat and a siren sound effect at the end of the "
    "loop. The vocals are loud and slightly distorted. It sounds energetic and would be played "
    "at a summer party.",
    "A solo acoustic guitar plays a slow fingerpicked melody in a minor key. The strings buzz "
    "now and then, and you can hear the player's fingers sliding along the neck. There is no "
    "percussion and no voice. The room sounds small and dry. The mood is calm, sad and "
    "intimate, like a home recording made late at night.",
    "This orchestral piece opens with sustained low strings and a soft timpani roll. French "
    "horns enter with a heroic theme that the trumpets answer an octave higher. Cymbal crashes "
    "mark the end of each phrase while the violins play fast ascending figures. The recording "
    "is wide and spacious with a lot of hall reverb. It sounds epic and triumphant and could "
    "accompany the final scene of an adventure film.",
    "An electronic dance track with a four on the floor kick, open hi hats on the offbeat and a "
    "rolling sidechained bass line. A bright supersaw lead plays a catchy hook while a female "
    "vocal sample is chopped into short syllables. The build up ends in a snare roll and a "
    "white noise riser before the drop. The mix is loud and punchy. This could be played in a "
    "club at peak time.",
    "Someone is playing a sitar with a tanpura drone in the background. The melody slides "
    "between notes with many ornaments and grows faster over the clip. A tabla joins halfway "
    "with a steady cycle of strokes. The audio is clear but has some hiss. The atmosphere is "
    "meditative and spiritual, fitting for a yoga class or a documentary about India.",
    "The song features a male country singer with a warm baritone voice accompanied by an "
    "acoustic guitar strumming chords, a pedal steel guitar playing long sliding notes and a "
    "simple drum groove with a rim click. A fiddle plays short fills between the vocal lines. "
    "The lyrics tell a story about a small town. It sounds nostalgic and heartfelt.",
    "This heavy metal track has distorted electric guitars playing a fast palm muted riff in "
    "unison with the bass. The drummer plays double kick drums and crashes on every bar. A "
    "male vocalist screams aggressively over the riff, then sings a melodic chorus. A guitar "
    "solo with wide vibrato and tapping follows. The production is modern and compressed. It "
    "sounds angry and powerful and would suit a workout playlist.",
    "A children's choir sings a simple melody in unison accompanied by a church organ. The "
    "organ holds long chords with a deep pedal note. The voices are slightly out of tune and "
    "the recording has a lot of natural reverb from the building. There is some coughing from "
    "the audience. It sounds innocent, devotional and festive, as at a Christmas service.",
    "This is a lo-fi hip hop beat with a dusty drum loop, a vinyl crackle and a mellow "
    "electric piano playing jazzy seventh chords. A muted bass guitar plays a short repeating "
    "line. The kick and snare are soft and a little behind the beat, giving a lazy swing. No "
    "one sings. The mood is relaxed and nostalgic, good for studying or reading.",
    "A brass band plays a lively march outdoors. The tuba plays an oompah bass line while "
    "trumpets and trombones share the melody and the snare drum keeps a crisp military rhythm. "
    "A bass drum and cymbals hit on the downbeats. You can hear wind on the microphone and a "
    "crowd cheering. The recording quality is poor but the performance is tight and joyful, "
    "like a parade on a public holiday.",
    "The ambient piece consists of slowly evolving synth pads with long reverb tails and a "
    "distant piano playing single notes. A field recording of rain and birds sits underneath. "
    "There is no rhythm and no clear melody; the sound drifts between two chords. It sounds "
    "peaceful, spacious and a little melancholic.",
    "This is a flamenco performance with a nylon string guitar playing rapid strummed rasgueado "
    "patterns and picked runs. Handclaps keep a complex twelve beat rhythm and a dancer's heels "
    "tap on a wooden floor. A male singer with a raw, passionate voice sings long ornamented "
    "phrases. Shouts of encouragement come from the people around. The recording is live and "
    "intense, full of fire and sorrow.",
    "An upbeat pop song with a female lead singer whose voice is bright and slightly "
    "autotuned. The verse has a muted guitar and finger snaps; the chorus adds a full drum "
    "kit, a synth bass and layered backing vocals singing harmonies. The production is clean "
    "and polished with a wide stereo image. It sounds happy and carefree, like something you "
    "would hear on the radio in summer.",
    "Someone is practicing scales on a violin in a small room. The tone is thin and scratchy at "
    "first and gets steadier as the notes go higher. A metronome clicks in the background. "
    "There are pauses between the exercises. The recording was made with a phone and has a "
    "lot of room noise. This sounds like an amateur home practice session.",
    "This reggae song has a laid back one drop drum groove, a deep round bass line and a "
    "guitar playing skank chords on the offbeats. An organ bubble pattern fills the "
    "background. A male vocalist sings with a warm, relaxed voice about peace and love, and "
    "backing singers answer him. The mix has a lot of echo on the snare. It sounds sunny and "
    "easygoing.",
    "The recording features a traditional Irish session with a tin whistle and a fiddle "
    "playing a fast reel in unison. A bodhran keeps a driving beat and an acoustic guitar "
    "strums chords in open tuning. Someone stamps their foot on the floor. The audio is a bit "
    "noisy with pub chatter, but the music is lively and cheerful, perfect for dancing.",
    "A cinematic trailer cue starts with a ticking clock and a low drone. Deep braams and "
    "taiko drums hit at the end of each bar, growing louder. String ostinatos play fast "
    "repeated notes while a choir sings a dark minor melody. The track stops suddenly before a "
    "final massive hit. The sound is huge and tense, built for a thriller or an action movie "
    "trailer.",
    "This is a funk track with a tight drum groove, a slapped bass guitar and a clean electric "
    "guitar playing choppy sixteenth note chords. A horn section of saxophone and trumpet "
    "plays short stabs between the phrases. A male singer shouts and sings in a high "
    "register. The recording sounds vintage, from the seventies, with some tape hiss. It is "
    "groovy and makes you want to dance.",
    "A bossa nova song with a soft female voice singing in Portuguese over a nylon guitar "
    "playing syncopated chords. A brushed snare and a shaker keep a gentle rhythm and an "
    "upright bass plays the roots. A flute answers the vocal lines. The recording is warm and "
    "close. It sounds romantic and relaxing, like music in a cafe by the sea.",
    "The clip features a drum and bass tune with a very fast breakbeat, a rumbling reese bass "
    "and short vocal samples. Atmospheric pads and a piano chord loop play in the background. "
    "The drums are chopped and rearranged with many fills. The mix is dark and heavy in the "
    "low end. It sounds energetic and futuristic, fitting for a racing video game.",
    "An opera singer with a powerful soprano voice sings a dramatic aria accompanied by a full "
    "orchestra. The strings swell under her long high notes and the woodwinds double the "
    "melody. There is a short pause and then a loud tutti chord. The recording is old and has "
    "crackles and a narrow frequency range. It sounds passionate, tragic and grand.",
    "This is a children's song with a cheerful male voice singing about animals, accompanied "
    "by a ukulele, a glockenspiel and hand claps. Kids join in on the chorus and laugh. The "
    "tempo is medium and the melody is very simple and repetitive. The production is clean "
    "but simple. It sounds playful and friendly, suitable for a kindergarten or a cartoon.",
    "A blues rock song with an overdriven electric guitar playing a shuffle riff, a bass "
    "guitar doubling it and a drummer playing a heavy backbeat. A male vocalist with a raspy "
    "voice sings about leaving town. Between verses the guitarist plays a solo full of bends "
    "and slides. A harmonica joins in the last chorus. The recording has a live, raw feel.",
    "A steel drum plays a bright, bouncy melody over a simple conga pattern and a shaker. A "
    "bass guitar plays the root notes. The recording is clean and a bit "
    "thin. It sounds tropical and cheerful, like a hotel lobby on a Caribbean island.",
    "Someone is playing a marimba alone in a practice room. The melody is fast and made of "
    "broken chords that rise and fall. The mallets are soft and the notes ring for a while. "
    "This sounds like a student rehearsing for an exam.",
    "This is a progressive rock piece that moves through several sections. It opens with a "
    "mellotron playing sustained flute chords and a twelve string guitar picking an "
    "arpeggio. Then the drums enter in an odd time signature with busy tom fills while a "
    "fretless bass plays melodic lines. A Hammond organ and a Moog synthesizer trade solos "
    "over the groove. A male tenor sings cryptic lyrics in a high, clear voice, doubled by "
    "harmonies in the chorus. The mood shifts from dreamy to urgent and would suit a concept album.",
    "The low quality recording features a wedding band playing a medley in a large hall. A "
    "female singer and a male singer take turns on the verses while a keyboard player covers "
    "the horn and string parts with cheap synth patches. The crowd claps along "
    "and sings the chorus loudly, and someone whistles near the microphone. The sound is "
    "boomy and distorted when the singers get close to the microphone, but the atmosphere is "
    "festive and happy.",
)
