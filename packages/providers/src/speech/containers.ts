/** Container sniffing: what we label audio/mpeg must be MP3, audio/wav must be RIFF/WAVE. */
export function isMp3(b: Buffer): boolean {
  if (b.length < 4) return false;
  if (b.subarray(0, 3).toString('latin1') === 'ID3') return true;
  return b[0] === 0xff && (b[1]! & 0xe0) === 0xe0 && (b[1]! & 0x06) !== 0; // frame sync, layer set
}
export function isWav(b: Buffer): boolean {
  return b.length >= 12 && b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WAVE';
}
