// What the API does. Resolvers and `vidsearch eval` both call these, so eval measures the real
// path. Add a service: write it in its own file, then list it in Services and createServices.
import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { extractAudioPcm, extractFrame } from '../media/frames.js';
import { loadFaceModels } from '../models/faces/index.js';
import { loadVoiceModels, VOICE_SAMPLE_RATE } from '../models/voice/index.js';
import { contentHash, probeMedia } from '../media/probe.js';
import { launchToolsFromSmallProcess } from '../media/process.js';
import type { MediaTools } from '../media/tools.js';
import type { Store } from '../store/interfaces.js';
import { createActorService, type ActorService } from './actors.js';
import { createAdsService, type AdsService } from './ads/index.js';
import { createClipService, type ClipService } from './clips.js';
import { cutClip, keyframeTimes } from '../media/clips.js';
import { createFaceClusterService, type FaceClusterService } from './face-clusters.js';
import { createHighlightsService, type HighlightsService } from './highlights.js';
import { frameEvidenceModel } from '../indexers/frames.js';
import { createImageSearchService, ffmpegFrameSource, storedMatchFrame, type ImageSearcher, type ImageSearchService, type LocalImageSearchService } from './image-search/index.js';
import { MobileNetDescriptor } from '../models/image-descriptors/mobilenet.js';
import { ORB_FEATURES, OrbMatcher } from '../models/image-descriptors/local-features.js';
import { ratioTestThread } from '../models/image-descriptors/ratio-test-thread.js';
import { createIntroOutroService, type IntroOutroService } from './intro-outro.js';
import { createIndexingService, type IndexingService, type MediaInspector } from './indexing.service.js';
import { createMediaService, type MediaService } from './media.service.js';
import { createModerationService, type ModerationService } from './moderation.js';
import { createPresenceService, type PresenceService } from './presence.js';
import { createSearchService, type SearchService } from './search.service.js';
import { createTechnicalCuesService, type TechnicalCuesService } from './technical-cues.js';
import { createVideoService, type VideoService } from './video.service.js';
import { createVisualModerationService, type VisualModerationService } from './visual-moderation.js';
import { createVoiceClusterService, type VoiceClusterService } from './voice-clusters.js';
import { createVoiceService, type VoiceService } from './voices.js';
import { secondOpinionScorerFor } from './face-second-opinion.js';

export interface Services {
  videos: VideoService;
  indexing: IndexingService;
  search: SearchService;
  media: MediaService;
  actors: ActorService;
  presence: PresenceService;
  faceClusters: FaceClusterService;
  voices: VoiceService;
  voiceClusters: VoiceClusterService;
  moderation: ModerationService;
  ads: AdsService;
  highlights: HighlightsService;
  imageSearch: ImageSearchService;
  introOutro: IntroOutroService;
  technicalCues: TechnicalCuesService;
  visualModeration: VisualModerationService;
  clips: ClipService;
}

export interface ServiceDeps {
  store: Store;
  media: MediaTools;
  config: Config;
  log: Logger;
  /**
   * Image searches answered elsewhere (serve --workers: the one image-search process); absent,
   * this process runs its own. Either way a match's stored frame is read here (storedMatchFrame).
   */
  imageSearch?: ImageSearcher;
}

/** The frame evidence image search verifies against: the rows of its ORB matcher's model (no OpenCV is loaded for the id). */
const SEARCH_EVIDENCE_MODEL = frameEvidenceModel(new OrbMatcher(ORB_FEATURES));

/**
 * Image search in this process: its own CNN, ORB threads and frame matrix (loaded on first use).
 * Its ffmpeg runs (the moment's refinement decodes) start from a small launcher process, forked at
 * the service's first use, before it loads its frame matrices (~1 GB at 1M frames): from then on
 * every start from this process would fork all of that. Not at creation: a server that never
 * searches by image keeps no extra process.
 */
export function createLocalImageSearch(deps: { store: Store; log: Logger; media: MediaTools; config: Config }): LocalImageSearchService {
  const matcher = new OrbMatcher(ORB_FEATURES, ratioTestThread());
  const refineMoment = deps.config.search.imageRefineMoment;
  const service = createImageSearchService({ store: deps.store, log: deps.log, descriptor: new MobileNetDescriptor(), matcher, ...ffmpegFrameSource(deps.media), refineMoment });
  const launch = (): void => void launchToolsFromSmallProcess(deps.log);
  return {
    ...service,
    warmUp: () => (launch(), service.warmUp()),
    searchByImage: (request, options) => (launch(), service.searchByImage(request, options)),
  };
}

export function createServices(deps: ServiceDeps): Services {
  const { store, config, log } = deps;
  const inspector: MediaInspector = {
    probe: (filePath) => probeMedia(deps.media, filePath, { timeoutMs: config.indexing.probeTimeoutMs }),
    contentHash,
  };
  const media = createMediaService({
    store,
    extractFrame: (videoPath, time, opts) => extractFrame(deps.media, videoPath, time, { ...opts, format: 'jpeg' }),
    cacheDir: path.join(config.dataDir, 'cache'),
    log,
  });
  const voices = createVoiceService({
    store,
    config,
    log,
    models: () => loadVoiceModels({ modelDir: config.modelDir }),
    decodeAudio: (filePath, signal) => extractAudioPcm(deps.media, filePath, { sampleRate: VOICE_SAMPLE_RATE, channels: 1, signal }),
  });
  const voiceClusters = createVoiceClusterService({
    clusters: store.voiceClusters,
    appearances: store.appearances,
    actors: store.actors,
    templates: voices,
    voiceModel: async () => (await loadVoiceModels({ modelDir: config.modelDir })).embedder,
  });
  const clips = createClipService({
    catalog: store.catalog,
    inspect: async (filePath) => {
      const probe = await probeMedia(deps.media, filePath, { timeoutMs: config.indexing.probeTimeoutMs });
      return { videoCodec: probe.videoCodec, audioCodec: probe.audioStreams[0]?.codec ?? null };
    },
    keyframes: (filePath, range) => keyframeTimes(deps.media, filePath, range),
    cut: (input, output, opts) => cutClip(deps.media, input, output, opts),
    cacheDir: path.join(config.dataDir, 'cache'),
    log,
  });
  const imageSearch: ImageSearchService = deps.imageSearch
    ? { searchByImage: deps.imageSearch.searchByImage.bind(deps.imageSearch), matchFrame: storedMatchFrame(store.frameEvidence, SEARCH_EVIDENCE_MODEL) }
    : createLocalImageSearch(deps);
  // Cached keyframes and exported clips go with their video.
  const derivedFiles = { purgeVideo: async (videoId: string) => void (await Promise.all([media.purgeVideo(videoId), clips.purgeVideo(videoId)])) };
  const actors = createActorService({ store, config, log, models: () => loadFaceModels({ modelDir: config.modelDir }), voices });
  return {
    videos: createVideoService({ store, derivedFiles, log, scoreFace: (embedding, among) => actors.scoreFace(embedding, undefined, among), secondOpinion: secondOpinionScorerFor(store.actors) }),
    indexing: createIndexingService({ store, inspector, config, log }),
    search: createSearchService({ store, log, imageSearch, hybridWeights: config.search.hybridWeights }),
    media,
    presence: createPresenceService({ catalog: store.catalog, appearances: store.appearances, actors: store.actors }),
    faceClusters: createFaceClusterService({
      appearances: store.appearances,
      actors: store.actors,
      vectors: store.vectors,
      currentFaceModelId: async () => (await loadFaceModels({ modelDir: config.modelDir })).embedder.modelId,
      voiceClusters,
    }),
    moderation: createModerationService({ catalog: store.catalog, moderation: store.moderation, log }),
    actors,
    voices,
    voiceClusters,
    ads: createAdsService({ store, log }),
    highlights: createHighlightsService({ store }),
    introOutro: createIntroOutroService({ store, log }),
    technicalCues: createTechnicalCuesService({ store }),
    visualModeration: createVisualModerationService({ store }),
    imageSearch,
    clips,
  };
}
