// upsertAd's input checks: trimmed, bounded text and lists, canonical object/scene/mood labels,
// IAB codes, dates, URLs and the visual-risk tolerance; every refusal is a BadInputError naming
// the field. Actor ids are checked against the store by the service.
import { isIabCode } from '../../ads/iab-map.js';
import { canonicalMoodLabel, canonicalSceneLabel } from '../../ads/tags.js';
import { BadInputError } from '../../errors.js';
import { canonicalObjectLabel } from '../../models/objects/labels.js';
import { defaultMaxVisualRisk, type AdRecord } from '../../store/ads.js';
import type { AdInput } from './types.js';

const MAX_LIST = 200;
const MAX_TEXT = 500;

export function cleanText(name: string, value: string | null | undefined, required = false): string | null {
  const trimmed = typeof value === 'string' ? value.trim() : '';
  if (!trimmed) {
    if (required) throw new BadInputError(`${name} must not be empty`, { field: name });
    return null;
  }
  if (trimmed.length > MAX_TEXT) throw new BadInputError(`${name} is longer than ${MAX_TEXT} characters`, { field: name });
  return trimmed;
}

function cleanList(name: string, values: readonly string[] | null | undefined): string[] {
  const list = (values ?? []).map((v) => (typeof v === 'string' ? v.trim() : '')).filter(Boolean);
  if (list.length > MAX_LIST) throw new BadInputError(`${name}: at most ${MAX_LIST} entries`, { field: name });
  for (const v of list) if (v.length > MAX_TEXT) throw new BadInputError(`${name}: an entry is longer than ${MAX_TEXT} characters`, { field: name });
  return [...new Set(list)];
}

function canonicalList(name: string, values: readonly string[], canonical: (v: string) => string | null): string[] {
  return [
    ...new Set(
      values.map((v) => {
        const c = canonical(v);
        if (!c) throw new BadInputError(`${name}: unknown value "${v}"`, { field: name, value: v });
        return c;
      }),
    ),
  ];
}

function cleanDate(name: string, value: string | null | undefined): string | null {
  const text = cleanText(name, value);
  if (text === null) return null;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`))) {
    throw new BadInputError(`${name} must be a date YYYY-MM-DD`, { field: name, value: text });
  }
  return text;
}

function cleanRisk(value: number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new BadInputError('brandSafety.maxVisualRisk must be a number from 0 to 1', { field: 'brandSafety.maxVisualRisk', value });
  }
  return value;
}

function cleanUrl(value: string | null | undefined): string | null {
  const text = cleanText('creativeUrl', value);
  if (text === null) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BadInputError('creativeUrl must be an absolute http(s) URL', { field: 'creativeUrl' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BadInputError('creativeUrl must be an http(s) URL', { field: 'creativeUrl' });
  return url.toString();
}

/**
 * The ad record an input makes (every field checked; actor ids are the service's to check).
 * `id` and `createdAt` come from the caller: the id is read first to find the ad being replaced.
 */
export function adRecordFromInput(input: AdInput, id: string, createdAt: string, now: string): AdRecord {
  const categories = cleanList('categories', input.categories).map((c) => c.toUpperCase());
  const badCategory = categories.find((c) => !isIabCode(c));
  if (badCategory) throw new BadInputError(`categories: "${badCategory}" is not an IAB code like IAB8 or IAB8-18`, { field: 'categories' });
  const safety = input.brandSafety ?? {};
  const avoidFlagged = safety.avoidFlagged ?? true;
  const avoidLists = cleanList('brandSafety.avoidLists', safety.avoidLists);
  const ad: AdRecord = {
    id,
    advertiser: cleanText('advertiser', input.advertiser),
    title: cleanText('title', input.title, true)!,
    creativeUrl: cleanUrl(input.creativeUrl),
    keywords: cleanList('keywords', input.keywords),
    categories,
    actors: cleanList('actors', input.actors),
    objects: canonicalList('objects', cleanList('objects', input.objects), canonicalObjectLabel),
    scenes: canonicalList('scenes', cleanList('scenes', input.scenes), canonicalSceneLabel),
    moods: canonicalList('moods', cleanList('moods', input.moods), canonicalMoodLabel),
    excludeKeywords: cleanList('excludeKeywords', input.excludeKeywords),
    brandSafety: {
      avoidFlagged,
      avoidLists,
      avoidScenes: canonicalList('brandSafety.avoidScenes', cleanList('brandSafety.avoidScenes', safety.avoidScenes), (v) => canonicalSceneLabel(v) ?? canonicalMoodLabel(v)),
      maxVisualRisk: cleanRisk(safety.maxVisualRisk) ?? defaultMaxVisualRisk({ avoidFlagged, avoidLists }),
    },
    flightStart: cleanDate('flightStart', input.flightStart),
    flightEnd: cleanDate('flightEnd', input.flightEnd),
    createdAt,
    updatedAt: now,
  };
  if (ad.flightStart && ad.flightEnd && ad.flightStart > ad.flightEnd) throw new BadInputError('flightStart is after flightEnd');
  return ad;
}
