/**
 * Tiny valid audio files for the simulator: WAV (RIFF, 16-bit PCM) and MP3 (MPEG-1 Layer III frames
 * whose side information is all zero, which decoders play as silence). Both are a tenth of a second
 * of silence whatever `duration` asked for (a documented limit, src/sim/README.md).
 */

const WAV_RATE = 8000;
const WAV_SECONDS = 0.1;
const WAV_BITS = 16;

/** RIFF/WAVE, mono 16-bit PCM at 8 kHz. */
export function buildWav(): Buffer {
  const samples = Math.round(WAV_RATE * WAV_SECONDS);
  const dataBytes = samples * (WAV_BITS / 8);
  const b = Buffer.alloc(44 + dataBytes);
  b.write("RIFF", 0, "latin1");
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write("WAVE", 8, "latin1");
  b.write("fmt ", 12, "latin1");
  b.writeUInt32LE(16, 16); // fmt chunk size
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(WAV_RATE, 24);
  b.writeUInt32LE((WAV_RATE * WAV_BITS) / 8, 28); // byte rate
  b.writeUInt16LE(WAV_BITS / 8, 32); // block align
  b.writeUInt16LE(WAV_BITS, 34);
  b.write("data", 36, "latin1");
  b.writeUInt32LE(dataBytes, 40);
  return b; // the samples are already zero: silence
}

/**
 * MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono, no CRC: header FF FB 90 C4. A frame is
 * 144 · 128000 / 44100 = 417 bytes (no padding) and lasts 1152 samples (26 ms); after the header
 * come 17 bytes of mono side information and main data, all zero: no coded bits, silence.
 */
const MP3_HEADER = [0xff, 0xfb, 0x90, 0xc4];
const MP3_FRAME_BYTES = 417;
const MP3_FRAMES = 4;

export function buildMp3(): Buffer {
  const b = Buffer.alloc(MP3_FRAME_BYTES * MP3_FRAMES);
  for (let f = 0; f < MP3_FRAMES; f++) b.set(MP3_HEADER, f * MP3_FRAME_BYTES);
  return b;
}
