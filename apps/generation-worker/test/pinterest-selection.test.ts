import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PinterestPin } from '@gptmarket/contracts';
import { md5Hex } from '../src/workflows/md5.js';
import { TEXT_PENALTY_KEYWORDS, scorePin, selectPins, similarityHash, textPenalty } from '../src/workflows/pinterest-selection.js';
import { queriesFromAnswer } from '../src/workflows/slideshows-pinterest.js';

interface Fixture {
  pins: (PinterestPin & { expected_score: number | null })[];
  expected_selection_urls: string[];
  expected_selection_ids: string[];
  expected_skipped_as_similar: string[];
  hash_cases: (Pick<PinterestPin, 'id' | 'image_url' | 'image_width' | 'image_height'> & { hash_input: string; md5_8: string })[];
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/pinterest-pins.json', import.meta.url), 'utf8')) as Fixture;
const nodeMd5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

describe('md5 (pure JS, for the workflow sandbox)', () => {
  it('matches the RFC 1321 test suite', () => {
    expect(md5Hex('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(md5Hex('a')).toBe('0cc175b9c0f1b6a831c399e269772661');
    expect(md5Hex('abc')).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(md5Hex('message digest')).toBe('f96b697d7cb7938d525a2f31aaf161d0');
    expect(md5Hex('12345678901234567890123456789012345678901234567890123456789012345678901234567890')).toBe(
      '57edf4a22be3c955ac49da2e2107b67a',
    );
  });

  it('matches node:crypto on random ASCII, unicode and block-boundary lengths', () => {
    const samples = ['ünïcödé ✓ 🎉', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(64), 'x'.repeat(119), 'x'.repeat(1000)];
    for (let i = 0; i < 200; i++) samples.push(randomBytes(i % 90).toString('base64'));
    for (const s of samples) expect(md5Hex(s), s).toBe(nodeMd5(s));
  });
});

describe("Pinterest scoring (the Python workflow's _score_pin)", () => {
  it("has the Python system's 51 distinct lower-case keywords", () => {
    expect(TEXT_PENALTY_KEYWORDS).toHaveLength(51);
    expect(new Set(TEXT_PENALTY_KEYWORDS).size).toBe(51);
    for (const k of TEXT_PENALTY_KEYWORDS) expect(k).toBe(k.toLowerCase());
    for (const k of [
      'template',
      'quotes',
      'tips',
      'howto',
      'guide',
      'cheatsheet',
      'diy',
      'pdf',
      'ebook',
      'logo',
      'stock',
      'getty',
      'pin this',
      'save this',
      'roundup',
      'best of',
    ]) {
      expect(TEXT_PENALTY_KEYWORDS, k).toContain(k);
    }
    for (const k of ['poster', 'typography', 'before and after', 'side by side', 'affirmation', 'split screen'])
      expect(TEXT_PENALTY_KEYWORDS, k).not.toContain(k);
  });

  it('penalises −50 for the first keyword, −15 for each further one, at most 100; keywords are substrings', () => {
    expect(textPenalty({ title: 'Sunset', description: 'by the sea' })).toBe(0);
    expect(textPenalty({ title: 'Poster lettering', description: 'before and after, side by side' })).toBe(0);
    expect(textPenalty({ title: 'Best TEMPLATE', description: null })).toBe(50);
    expect(textPenalty({ title: 'Golden hour photography', description: null })).toBe(50); // "graph"
    expect(textPenalty({ title: 'Love quotes', description: null })).toBe(65); // "quote" and "quotes"
    expect(textPenalty({ title: 'moodboard', description: 'collage' })).toBe(65);
    expect(textPenalty({ title: 'recipe infographic printable', description: 'checklist tutorial shutterstock' })).toBe(100);
  });

  it('scores every fixture pin as computed by hand', () => {
    for (const pin of fixture.pins) {
      if (pin.expected_score === null) continue;
      expect(scorePin(pin), pin.id || pin.image_url).toBeCloseTo(pin.expected_score, 6);
    }
  });

  it('hashes the last three pieces of the whole URL and the sizes (missing = 0) as the Python code does', () => {
    expect(fixture.hash_cases.length).toBeGreaterThan(5);
    for (const c of fixture.hash_cases) {
      expect(nodeMd5(c.hash_input).slice(0, 8), c.hash_input).toBe(c.md5_8);
      expect(similarityHash(c), c.id).toBe(c.md5_8);
    }
    expect(similarityHash({ image_url: 'https://i.pinimg.com/736x/ab/cd/ef.jpg?x=1', image_width: 720, image_height: 1280 })).toBe(
      nodeMd5('ab-cd-ef.jpg?x=1:720:1280').slice(0, 8),
    );
    expect(similarityHash({ image_url: 'https://host.example/x.jpg', image_width: null, image_height: 5 })).toBe(
      nodeMd5('-host.example-x.jpg:0:5').slice(0, 8),
    );
    expect(similarityHash({ image_url: 'local://pin/7' })).toBe(nodeMd5('-pin-7:0:0').slice(0, 8));
  });
});

describe('Pinterest selection', () => {
  const selected = selectPins(fixture.pins);

  it('selects the hand-computed 25 pins in order', () => {
    expect(selected).toHaveLength(25);
    expect(selected.map((s) => s.pin.image_url)).toEqual(fixture.expected_selection_urls);
    expect(selected.map((s) => s.pin.id)).toEqual(fixture.expected_selection_ids);
  });

  it('drops duplicates by URL (first wins), pins without URL, and similar pins', () => {
    const ids = new Set(selected.map((s) => s.pin.id));
    for (const id of fixture.expected_skipped_as_similar) expect(ids.has(id), id).toBe(false);
    expect(selected.some((s) => s.pin.title === 'Duplicate of 2')).toBe(false);
    expect(selected.some((s) => s.pin.image_url === '')).toBe(false);
    const prefixes = selected.map((s) => s.hash.slice(0, 4));
    expect(new Set(prefixes).size).toBe(prefixes.length);
    // The fixture's similar pairs really share a prefix; the URL pairs that only differ outside the path do not.
    const hash = (id: string) => similarityHash(fixture.pins.find((p) => p.id === id)!);
    expect(hash('pin-31').slice(0, 4)).toBe(hash('pin-01').slice(0, 4));
    expect(hash('pin-21').slice(0, 4)).toBe(hash('pin-32').slice(0, 4));
    expect(hash('pin-26')).toBe(hash('pin-25'));
    expect(hash('pin-27')).not.toBe(hash('pin-28'));
    expect(hash('pin-29')).not.toBe(hash('pin-30'));
  });

  it('honours the maximum and handles an empty list', () => {
    expect(selectPins(fixture.pins, 3).map((s) => s.pin.id)).toEqual(['pin-01', 'pin-02', 'pin-14']);
    expect(selectPins([])).toEqual([]);
  });
});

describe('query parsing', () => {
  it('takes the first 5 non-empty string queries', () => {
    expect(queriesFromAnswer({ queries: ['a', ' ', 3, 'b', 'c', 'd', 'e', 'f'] })).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(queriesFromAnswer(null)).toEqual([]);
    expect(queriesFromAnswer({ queries: 'nope' })).toEqual([]);
  });
});
