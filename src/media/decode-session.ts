// One ffmpeg decode of a video's picture stream feeding several outputs at once: the decoded
// frames are split inside ffmpeg, each branch sampled and scaled as one stage asked (rate, size,
// pixel format, keyframes only, the first frame at given times, JPEGs, or the luma of a JPEG
// output's pictures as decoded), and written to its own pipe (pipe:3, pipe:4, …). Branches
// sampled alike (same fps, same select) share that sampling and split after it; each then scales
// to its own size and format. Frame times come from a named
// showinfo per branch, as in streamFrames, so every branch yields exactly the frames and pixels a
// decode of its own would have given.
import path from 'node:path';
import type { Readable } from 'node:stream';
import { FrameChannel } from './frame-channel.js';
import { JpegSplitter } from './jpeg-split.js';
import { RecordAssembler } from './record-assembler.js';
import { MediaDecodeError, outputSize, type PixelFormat, type RawFrame } from './frames.js';
import type { MediaProbe } from './probe.js';
import { MediaProcessError, startTool, type RunningTool } from './process.js';
import { OutputRoute, SinkRoute } from './session-routes.js';
import type { MediaTools } from './tools.js';

/** What one stage wants from the picture stream. */
export interface FrameRequest {
  pixFmt: PixelFormat;
  width: number;
  /** Frames per second; omitted → every decoded frame. */
  fps?: number;
  /** Only the stream's keyframes (I-frames): what a `-skip_frame nokey` decode gives. */
  keyframesOnly?: boolean;
  /** Fail the consumer on damaged data or a stream that stops early (the shots stage). */
  strict?: boolean;
}

/** The first frame at or after each of these media times (what an accurate seek gives). */
export interface FramesAtRequest {
  pixFmt: 'rgb24';
  width: number;
  times: readonly number[];
}

/**
 * Every `every`-th frame of an `fps` sampling (the same frames a FrameRequest at that fps gives),
 * `width` wide, as high-quality JPEGs: a compact copy kept for stages that pick among them later.
 */
export interface EncodedFramesRequest {
  encode: 'mjpeg';
  width: number;
  fps: number;
  every: number;
  /** Only the luma is read: the JPEGs carry it (the same luma) with flat chroma, R = G = B decoded. */
  grey?: boolean;
}

/** Where an encoded output's pictures go, each with its media time. */
export interface EncodedFrameSink {
  add(time: number, jpeg: Buffer): void;
  end(failure: Error | null): void;
}

/**
 * The luma of exactly the pictures an encoded output encodes, as decoded: before the JPEG's
 * coding, for a measure that coding would change (its own 8-px grid reads as coding blocks).
 */
export interface EncodedLumaRequest {
  lumaOf: EncodedFramesRequest;
}

/** Where that luma goes, picture by picture with its media time, as it comes (nothing kept). */
export interface LumaSink {
  addLuma(frame: RawFrame): void;
  lumaEnded(failure: Error | null): void;
}

export type SessionOutput =
  /** paced: kept in memory only, holding the decode while its reader is behind (frame-channel.ts). */
  | { key: string; request: FrameRequest | FramesAtRequest; paced?: boolean }
  | { key: string; request: EncodedFramesRequest; sink: EncodedFrameSink }
  | { key: string; request: EncodedLumaRequest; sink: LumaSink };

const SHOWINFO = /^\[showinfo@o(\d+) @ [^\]]+\]\s+n:\s*\d+\s+pts:\s*-?\d+\s+pts_time:\s*(-?[\d.]+(?:e[-+]?\d+)?)/;
const DECODER_ERROR = /^\[(?!showinfo@|Parsed_)[\w-]+ @ 0x[0-9a-f]+\].*(error|invalid|corrupt|conceal|truncat)/i;
const ALLOWED_MISSING_TAIL_SEC = 1.0;
/** Seek targets are compared with this slack: a frame exactly at the target counts as at it. */
const TIME_SLACK = 1e-4;

function isFramesAt(request: SessionOutput['request']): request is FramesAtRequest {
  return 'times' in request;
}

function isEncoded(output: SessionOutput): output is Extract<SessionOutput, { sink: EncodedFrameSink }> {
  return 'encode' in output.request;
}

function isLuma(output: SessionOutput): output is Extract<SessionOutput, { sink: LumaSink }> {
  return 'lumaOf' in output.request;
}

/** JPEG quality scale of ffmpeg's mjpeg encoder (2 = near-lossless; 1 costs much more disk). */
const JPEG_QSCALE = 2;

/**
 * The JPEG encoder's picture. Grey: the scaler makes full-range luma alone (the very plane its
 * yuvj420p output has: checked bit for bit on the bench footage), and gray → yuvj420p only copies
 * it and fills the chroma with 128, so the chroma planes' range conversion and the coding of their
 * detail are saved (callgrind, 1280 px from the 720p bench footage: 43.8 → 36.2 M instructions a
 * picture). Decoded, such a JPEG gives R = G = B = its luma.
 */
function jpegPixels(request: EncodedFramesRequest): string {
  return request.grey ? 'format=gray,format=yuvj420p' : 'format=yuvj420p';
}

/**
 * select expression: a frame is taken when some target lies in (previously taken frame, this
 * frame], i.e. the first frame at or after each target.
 */
function selectAtTimes(times: readonly number[], startTime: number): string {
  const terms = [...new Set(times)].sort((a, b) => a - b).map((t) => {
    const at = (t + startTime - TIME_SLACK).toFixed(6);
    return `gte(t\\,${at})*not(gte(prev_selected_t\\,${at}))`;
  });
  return `select='${terms.join('+') || '0'}'`;
}

/**
 * One output's filters in order: first how frames are sampled (fps, select: which frames pass,
 * pixels untouched), then one step that makes its pixels (scale to its size and pixel format).
 */
export function branchSteps(request: SessionOutput['request'], probe: MediaProbe): string[] {
  if ('lumaOf' in request) {
    // The JPEG's picture is full-range luma (with flat or real chroma): its luma plane alone, the
    // very bytes the encoder gets (checked bit for bit on the bench footage, grey and colour).
    return [...branchSteps(request.lumaOf, probe), 'format=gray'];
  }
  const { width, height } = outputSize(probe, request.width);
  if ('encode' in request) {
    // The fps filter first, as the FrameRequest at that fps has it, so these are the same frames;
    // then every n-th of them, scaled as a seek of its own would be (see below).
    return [`fps=${request.fps}`, `select='not(mod(n\\,${request.every}))'`, `scale=${width}:${height}:flags=bicubic,${jpegPixels(request)}`];
  }
  if (isFramesAt(request)) {
    // extractFrame's scaler: the ffmpeg command line's default (bicubic), which a complex
    // filtergraph does not inherit, so it is named; the pixels then match a seek of its own.
    return [selectAtTimes(request.times, probe.startTime), `scale=${width}:${height}:flags=bicubic,format=${request.pixFmt}`];
  }
  const sampling = request.keyframesOnly ? ["select='eq(key\\,1)'"] : request.fps ? [`fps=${request.fps}`] : [];
  return [...sampling, `scale=${width}:${height}:flags=area,format=${request.pixFmt}`];
}

interface StepNode {
  step: string;
  children: StepNode[];
  /** Outputs whose filters end at this node. */
  outputs: number[];
}

/**
 * The outputs' filter chains merged where they begin alike: outputs sampled the same way (the
 * OCR and shots streams at 10 fps, the keyframe candidates at every width, the 2 fps streams)
 * share that sampling, run once, and split after it. Every output still gets its own filters'
 * frames and pixels: a shared step is the same filter on the same frames. Only sampling steps
 * are ever shared, since the pixel step is an output's own (two outputs with the same one are
 * the same request).
 */
function stepTree(chains: readonly string[][]): StepNode {
  const root: StepNode = { step: '', children: [], outputs: [] };
  chains.forEach((chain, index) => {
    let node = root;
    for (const step of chain) {
      let child = node.children.find((c) => c.step === step);
      if (!child) node.children.push((child = { step, children: [], outputs: [] }));
      node = child;
    }
    node.outputs.push(index);
  });
  return root;
}

/**
 * The filtergraph of a tree: each node's step, then a split into its children and outputs. Each
 * output ends in its named showinfo, which gives its frame times (no checksums: computing them
 * cost a sixth of the decode's instructions, and nothing reads them).
 */
function treeGraph(root: StepNode, input: string): string {
  const chains: string[] = [];
  let labels = 0;
  const emit = (node: StepNode, from: string, steps: string[]): void => {
    const ends = [...node.outputs.map((o) => ({ output: o })), ...node.children.map((child) => ({ child }))];
    // A lone way on continues this chain; several fork with a split.
    if (ends.length === 1 && node.children.length === 1) return emit(node.children[0]!, from, [...steps, node.children[0]!.step]);
    const outs = ends.map((end) => ('output' in end ? `[u${end.output}]` : `[s${labels++}]`));
    const filters = ends.length > 1 ? [...steps, `split=${ends.length}`] : steps;
    chains.push(`${from}${filters.join(',')}${outs.join('')}`);
    ends.forEach((end, i) => {
      if ('output' in end) chains.push(`${outs[i]}showinfo@o${end.output}=checksum=0[o${end.output}]`);
      else emit(end.child, outs[i]!, [end.child.step]);
    });
  };
  emit(root, input, []);
  return chains.join(';');
}

export function sessionArgs(filePath: string, probe: MediaProbe, outputs: readonly SessionOutput[]): string[] {
  const graph = treeGraph(stepTree(outputs.map((o) => branchSteps(o.request, probe))), '[0:v:0]');
  const args = ['-hide_banner', '-nostats', '-loglevel', 'info', '-nostdin', '-copyts', '-i', path.resolve(filePath), '-filter_complex', graph];
  outputs.forEach((o, i) => {
    args.push('-map', `[o${i}]`, '-vsync', '0');
    // Huffman tables: the standard ones, not ones fitted to each picture (a second pass over it
    // for a few % fewer bytes); the pictures are the same.
    if ('encode' in o.request) args.push('-c:v', 'mjpeg', '-q:v', String(JPEG_QSCALE), '-huffman', 'default', '-f', 'image2pipe', `pipe:${3 + i}`);
    else args.push('-f', 'rawvideo', '-pix_fmt', 'lumaOf' in o.request ? 'gray' : o.request.pixFmt, `pipe:${3 + i}`);
  });
  return args;
}

export interface DecodeSessionOptions {
  tools: MediaTools;
  filePath: string;
  probe: MediaProbe;
  outputs: readonly SessionOutput[];
  spoolDir: string;
  signal: AbortSignal;
}

/** A running shared decode; `channel(key)` is where each output's frames arrive. */
export class DecodeSession {
  private readonly routes = new Map<string, OutputRoute>();
  /** Every output's route by output index (pipe:3 + index, showinfo@o<index>). */
  private readonly byIndex: (OutputRoute | SinkRoute)[] = [];
  private tool: RunningTool | null = null;
  private decodeProblem: { message: string; at: number } | null = null;
  private streams: Readable[] = [];

  constructor(private readonly opts: DecodeSessionOptions) {
    opts.outputs.forEach((output, index) => {
      if (isEncoded(output)) {
        this.byIndex.push(new SinkRoute(new JpegSplitter(), output.sink));
        return;
      }
      if (isLuma(output)) {
        const { sink } = output;
        const { width, height } = outputSize(opts.probe, output.request.lumaOf.width);
        const receiver = { add: (time: number, data: Buffer): void => sink.addLuma({ time, data, width, height }), end: (failure: Error | null): void => sink.lumaEnded(failure) };
        this.byIndex.push(new SinkRoute(new RecordAssembler(width * height), receiver));
        return;
      }
      const { width, height } = outputSize(opts.probe, output.request.width);
      const recordBytes = width * height * (output.request.pixFmt === 'gray' ? 1 : 3);
      const events = { hold: (held: boolean): void => this.hold(index, held), dropped: (): void => this.stopIfUnwanted() };
      const channel = new FrameChannel(FrameChannel.spoolFile(opts.spoolDir, `${index}-${output.key}`), recordBytes, events, output.paced ?? false);
      const fps = 'fps' in output.request ? output.request.fps : undefined;
      const route = new OutputRoute(channel, recordBytes, 1 / (fps || opts.probe.fps || 25));
      this.routes.set(output.key, route);
      this.byIndex.push(route);
    });
  }

  get keys(): string[] {
    return [...this.routes.keys()];
  }

  channel(key: string): FrameChannel | null {
    return this.routes.get(key)?.channel ?? null;
  }

  start(): void {
    const { tools, filePath, probe, outputs, signal } = this.opts;
    const routes = this.byIndex;
    let framesSeen = 0;
    const tool = startTool(tools.ffmpeg, sessionArgs(filePath, probe, outputs), {
      signal,
      extraOutputs: outputs.length,
      onStderrLine: (line) => {
        const shown = SHOWINFO.exec(line);
        if (shown) {
          framesSeen++;
          return routes[Number(shown[1])]?.addTime(Number(shown[2]) - probe.startTime);
        }
        if (!this.decodeProblem && framesSeen > 0 && DECODER_ERROR.test(line)) {
          this.decodeProblem = { message: line.trim(), at: Math.max(...routes.map((r) => r.lastTime)) };
        }
      },
    });
    this.tool = tool;
    this.streams = tool.outputs;
    tool.outputs.forEach((stream, i) => stream.on('data', (chunk: Buffer) => routes[i]!.addBytes(chunk)));
    // ffmpeg's stdout is unused: drain it so it never blocks.
    tool.stdout.resume();
    const ended = Promise.all(tool.outputs.map((s) => new Promise<void>((resolve) => s.once('close', () => resolve()))));
    void Promise.all([tool.exited, ended]).then(
      () => this.finish(null),
      (err: unknown) => this.finish(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** Stops the decode (every consumer gone, or the job over). */
  stop(): void {
    this.tool?.kill();
  }

  private hold(index: number, held: boolean): void {
    const stream = this.streams[index];
    if (held) stream?.pause();
    else stream?.resume();
  }

  /** Every output dropped: nobody waits for more frames. */
  private stopIfUnwanted(): void {
    if ([...this.routes.values()].every((r) => r.channel.isDropped)) this.stop();
  }

  private finish(failure: Error | null): void {
    for (const route of this.byIndex) if (route instanceof SinkRoute) route.finish(failure);
    for (const [key, route] of this.routes) {
      route.flush(true);
      const output = this.opts.outputs.find((o) => o.key === key)!;
      route.channel.end(this.failureFor(output, route, failure));
    }
  }

  /** What a consumer of this output learns at the end: strict outputs hear about damage too. */
  private failureFor(output: SessionOutput, route: OutputRoute, failure: Error | null): Error | null {
    const strict = 'strict' in output.request && output.request.strict;
    if (!strict) return failure;
    const { probe } = this.opts;
    if (failure instanceof MediaProcessError) return new MediaDecodeError(`decoding failed after ${route.lastTime.toFixed(2)} s: ${failure.message}`, route.lastTime);
    if (failure) return failure;
    if (this.decodeProblem) return new MediaDecodeError(`damaged data after ${this.decodeProblem.at.toFixed(2)} s: ${this.decodeProblem.message}`, this.decodeProblem.at);
    const request = output.request as FrameRequest;
    if (request.keyframesOnly) return null;
    if (route.count === 0) return new MediaDecodeError('no frame could be decoded', 0);
    const statedEnd = probe.videoDurationSec ?? probe.durationSec;
    const stepSec = 1 / (request.fps || probe.fps || 25);
    if (Number.isFinite(statedEnd) && statedEnd - route.lastTime > ALLOWED_MISSING_TAIL_SEC + stepSec) {
      return new MediaDecodeError(`frames stop at ${route.lastTime.toFixed(2)} s of ${statedEnd.toFixed(2)} s (truncated or damaged)`, route.lastTime);
    }
    return null;
  }
}
