/**
 * The files behind `videoURL` / `audioURL`: which `outputFormat` values Runware takes (the TS SDK's
 * VideoInferenceParams / AudioInferenceParams) and which file the simulator really serves for each.
 * It has real MP4, MOV, WAV and MP3 files; WEBM is served as MP4 and FLAC/OGG as WAV (src/sim/README.md).
 */
import { buildMp3, buildWav } from "./audio.js";
import { buildVideoFile } from "./mp4.js";

/** `media`: a `mediaStorage` upload, served under `/media/`. */
export type MediaKind = "video" | "audio" | "media";

export interface MediaFile {
  readonly kind: MediaKind;
  /** File extension in the URL. */
  readonly ext: string;
  readonly contentType: string;
  readonly bytes: () => Buffer;
}

/** Built on first use, then shared: every result of a format is the same few bytes. */
function once(build: () => Buffer): () => Buffer {
  let cached: Buffer | undefined;
  return () => (cached ??= build());
}

const MP4: MediaFile = { kind: "video", ext: "mp4", contentType: "video/mp4", bytes: once(() => buildVideoFile("mp4")) };
const MOV: MediaFile = { kind: "video", ext: "mov", contentType: "video/quicktime", bytes: once(() => buildVideoFile("mov")) };
const WAV: MediaFile = { kind: "audio", ext: "wav", contentType: "audio/wav", bytes: once(buildWav) };
const MP3: MediaFile = { kind: "audio", ext: "mp3", contentType: "audio/mpeg", bytes: once(buildMp3) };

/** `outputFormat` values per task type, upper case (the docs write "mp4" and "MP4": compared case-insensitively). */
export const VIDEO_FORMATS = ["MP4", "WEBM", "MOV"] as const;
export const AUDIO_FORMATS = ["MP3", "WAV", "FLAC", "OGG"] as const;

const SERVED: Readonly<Record<string, MediaFile>> = { MP4, WEBM: MP4, MOV, MP3, WAV, FLAC: WAV, OGG: WAV };

/** The file served for a requested format (already validated), or the kind's default: MP4 for video, MP3 for audio. */
export function servedFile(kind: "video" | "audio", outputFormat: unknown): MediaFile {
  const file = typeof outputFormat === "string" ? SERVED[outputFormat.toUpperCase()] : undefined;
  return file?.kind === kind ? file : kind === "video" ? MP4 : MP3;
}
