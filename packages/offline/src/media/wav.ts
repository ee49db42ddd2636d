/**
 * RIFF/WAVE (PCM s16le) writer and a deterministic chord-sequence synthesiser
 * used as the offline "speech" provider's audio.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';

/** Encodes interleaved signed 16-bit samples as a canonical 44-byte-header WAV file. */
export function encodeWav(samples: Int16Array, sampleRate: number, channels: number): Buffer {
  if (!(samples instanceof Int16Array)) throw new TypeError('samples must be an Int16Array');
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 768_000) {
    throw new RangeError(`sampleRate must be an integer between 1 and 768000, got ${String(sampleRate)}`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > 16) {
    throw new RangeError(`channels must be an integer between 1 and 16, got ${String(channels)}`);
  }
  if (samples.length % channels !== 0) {
    throw new RangeError(`samples.length (${samples.length}) must be a multiple of channels (${channels})`);
  }
  const dataBytes = samples.length * 2;
  if (dataBytes + 36 > 0xffffffff) throw new RangeError('audio too long for a RIFF file');
  const blockAlign = channels * 2;
  const out = Buffer.alloc(44 + dataBytes);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVE', 8, 'latin1');
  out.write('fmt ', 12, 'latin1');
  out.writeUInt32LE(16, 16); // fmt chunk size
  out.writeUInt16LE(1, 20); // audio format: PCM
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * blockAlign, 28); // byte rate
  out.writeUInt16LE(blockAlign, 32);
  out.writeUInt16LE(16, 34); // bits per sample
  out.write('data', 36, 'latin1');
  out.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i] ?? 0, 44 + i * 2);
  return out;
}

export interface ToneOptions {
  /** Length in seconds (0 < seconds <= 600). */
  seconds: number;
  /** Sample rate in Hz (integer, 8000..192000). */
  sampleRate: number;
  /** Any string; the same seed always yields the same samples. */
  seed: string;
}

// Progressions as scale degrees (0 = I, 1 = ii, … 5 = vi) of a major key.
const PROGRESSIONS: readonly (readonly number[])[] = [
  [0, 4, 5, 3], // I–V–vi–IV
  [5, 3, 0, 4], // vi–IV–I–V
  [0, 5, 3, 4], // I–vi–IV–V
  [0, 3, 4, 3], // I–IV–V–IV
];
const MAJOR_SCALE = [0, 2, 4, 5, 7, 9, 11];

function midiToHz(note: number): number {
  return 440 * 2 ** ((note - 69) / 12);
}

/** Triad (root, third, fifth) built on `degree` of the major scale rooted at `tonic`. */
function triad(tonic: number, degree: number): number[] {
  const note = (step: number): number => {
    const idx = degree + step;
    const octave = Math.floor(idx / 7);
    return tonic + 12 * octave + (MAJOR_SCALE[idx % 7] ?? 0);
  };
  return [note(0), note(2), note(4)];
}

/**
 * Synthesises a soft, deterministic chord progression (mono s16). Each chord
 * is a sine triad with a little second harmonic, a bass note an octave below,
 * a gentle tremolo and smooth attack/release; the whole clip fades in and out.
 */
export function synthesizeTone(opts: ToneOptions): Int16Array {
  const { seconds, sampleRate, seed } = opts;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 600) {
    throw new RangeError(`seconds must be > 0 and <= 600, got ${String(seconds)}`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 192_000) {
    throw new RangeError(`sampleRate must be an integer between 8000 and 192000, got ${String(sampleRate)}`);
  }
  if (typeof seed !== 'string') throw new TypeError('seed must be a string');

  const h = createHash('sha256').update(`tone\u0000${seed}`).digest();
  const tonic = 55 + ((h[0] ?? 0) % 10); // G3 … E4
  const progression = PROGRESSIONS[(h[1] ?? 0) % PROGRESSIONS.length] ?? [0, 4, 5, 3];
  const chordSeconds = 0.6 + ((h[2] ?? 0) / 255) * 0.6; // 0.6 … 1.2 s per chord
  const tremoloHz = 3 + ((h[3] ?? 0) / 255) * 2.5;

  const n = Math.max(1, Math.round(seconds * sampleRate));
  const out = new Int16Array(n);
  const chordLen = Math.max(1, Math.round(chordSeconds * sampleRate));
  const attack = Math.max(1, Math.round(0.03 * sampleRate));
  const release = Math.max(1, Math.round(0.12 * sampleRate));
  const fade = Math.max(1, Math.min(Math.round(0.02 * sampleRate), Math.floor(n / 2)));
  const twoPi = 2 * Math.PI;

  for (let start = 0, c = 0; start < n; start += chordLen, c++) {
    const degree = progression[c % progression.length] ?? 0;
    const notes = triad(tonic, degree);
    const freqs = notes.map(midiToHz);
    const bass = midiToHz((notes[0] ?? tonic) - 12);
    const end = Math.min(n, start + chordLen);
    // Let each chord ring a little into the next one (soft crossfade).
    const ringEnd = Math.min(n, end + release);
    for (let i = start; i < ringEnd; i++) {
      const t = i / sampleRate;
      const local = i - start;
      let env = local < attack ? local / attack : 1;
      if (i >= end - release) env *= Math.max(0, (ringEnd - i) / (2 * release));
      env = Math.min(env, 1);
      let v = 0;
      for (const f of freqs) v += Math.sin(twoPi * f * t) + 0.15 * Math.sin(twoPi * 2 * f * t);
      v = v / freqs.length + 0.6 * Math.sin(twoPi * bass * t);
      const trem = 0.85 + 0.15 * Math.sin(twoPi * tremoloHz * t);
      const prev = (out[i] ?? 0) / 32767;
      out[i] = Math.round(Math.max(-1, Math.min(1, prev + 0.22 * env * trem * v)) * 32767);
    }
  }
  for (let i = 0; i < fade; i++) {
    const g = i / fade;
    out[i] = Math.round((out[i] ?? 0) * g);
    out[n - 1 - i] = Math.round((out[n - 1 - i] ?? 0) * g);
  }
  return out;
}
