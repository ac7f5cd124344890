/**
 * zod schemas for what crosses the wire to Runware (docs/protocol.md §1–§5). Inbound schemas are
 * loose: unknown fields are kept, because Runware adds fields often and a client must pass them on.
 */
import { z } from "zod";

/** An outbound task: string `taskType`, UUID v4 `taskUUID`, everything else passed through untouched. */
export const TaskSchema = z.looseObject({
  taskType: z.string().min(1),
  taskUUID: z.uuidv4(),
});
export type Task = z.infer<typeof TaskSchema>;

/** Runware's error object (docs/protocol.md §5.1). `parameter` may be an array for cross-field errors. */
export const ErrorObjectSchema = z.looseObject({
  // A malformed entry must not sink the rest of its frame (other tasks' results ride along).
  code: z.string().catch("unknownError"),
  message: z.string().default(""),
  parameter: z.union([z.string(), z.array(z.string())]).optional(),
  taskUUID: z.string().optional(),
  taskType: z.string().optional(),
});

/** One result item. Every real item echoes `taskType`/`taskUUID`; auth and pong items have no UUID. */
export const DataItemSchema = z.looseObject({
  taskType: z.string().optional(),
  taskUUID: z.string().optional(),
});
export type DataItem = z.infer<typeof DataItemSchema>;

/**
 * One inbound frame. `data` may be an object instead of an array (image-upload docs); errors come as
 * `errors` or a singular `error` (rw-ts handleMessage). The legacy `{"error": true, ...}` shape is
 * tolerated and ignored here.
 */
export const InboundFrameSchema = z.looseObject({
  // `null` is tolerated like a missing field: some backends send empty lists as null.
  data: z.union([z.array(DataItemSchema), DataItemSchema]).nullish(),
  errors: z.array(ErrorObjectSchema).nullish(),
  error: z.union([z.array(ErrorObjectSchema), ErrorObjectSchema, z.unknown()]).optional(),
});
export type InboundFrame = z.infer<typeof InboundFrameSchema>;
