// The frames stage's ORB extraction on its own thread (compiled build) gives the packed features
// the calling thread gives, on a real frame; without a build it runs in this thread.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { OrbMatcher, packFeatures } from '../../src/models/image-descriptors/local-features.js';
import { packedOrbExtractor } from '../../src/models/image-descriptors/orb-extract-thread.js';
import type { RawImage } from '../../src/models/types.js';
import { repoRoot, sharedData } from '../helpers/shared-data.js';

const picture = sharedData('derived/screenshot_queries/q000.jpg');

describe.skipIf(!picture)('ORB extraction thread', () => {
  it('packs the same features as the calling thread, in the compiled build too', async () => {
    const { data, info } = await sharp(picture!).resize({ width: 320 }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const image: RawImage = { data, width: info.width, height: info.height, channels: 3 };
    const expected = packFeatures(await new OrbMatcher().extract(image));
    expect(expected.length).toBeGreaterThan(4 + 100 * 40);
    expect(await packedOrbExtractor()(image)).toEqual(expected);
    const compiled = path.join(repoRoot, 'dist/src/models/image-descriptors/orb-extract-thread.js');
    if (!existsSync(compiled)) return console.warn('[orb-extract-thread] no dist/ build (run tsc): the thread is not checked');
    const extract = ((await import(pathToFileURL(compiled).href)) as { packedOrbExtractor: typeof packedOrbExtractor }).packedOrbExtractor();
    const [first, second] = await Promise.all([extract(image), extract(image)]);
    expect(first).toEqual(expected);
    expect(second).toEqual(expected);
    // The caller's pixels are not handed over.
    expect(image.data.length).toBe(info.width * info.height * 3);
  }, 60_000);
});
