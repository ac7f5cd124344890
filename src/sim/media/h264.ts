/**
 * A tiny but real H.264 picture for the simulator's MP4: Baseline profile, one IDR frame whose
 * macroblocks are all I_PCM (raw samples, no prediction or transform), so the bitstream is written
 * directly from the H.264 syntax tables (ITU-T H.264 §7.3) without an encoder. Deterministic: the
 * same size gives the same bytes.
 */

/** MSB-first bit writer with the Exp-Golomb codes of H.264 §9.1. */
class Bits {
  private readonly bytes: number[] = [];
  private cur = 0;
  private n = 0;

  u(bits: number, value: number): this {
    for (let i = bits - 1; i >= 0; i--) this.bit((value >>> i) & 1);
    return this;
  }

  /** ue(v): unsigned Exp-Golomb. */
  ue(value: number): this {
    const code = value + 1;
    const len = 32 - Math.clz32(code);
    return this.u(len - 1, 0).u(len, code);
  }

  /** se(v): signed Exp-Golomb (k > 0 → 2k − 1, k ≤ 0 → −2k). */
  se(value: number): this {
    return this.ue(value > 0 ? 2 * value - 1 : -2 * value);
  }

  /** Zero bits up to the next byte boundary. */
  align(): this {
    while (this.n !== 0) this.bit(0);
    return this;
  }

  byte(value: number): this {
    return this.u(8, value);
  }

  /** rbsp_trailing_bits: a stop bit, then zeros to the byte boundary. */
  trailing(): Buffer {
    this.bit(1).align();
    return Buffer.from(this.bytes);
  }

  private bit(b: number): this {
    this.cur = (this.cur << 1) | b;
    this.n += 1;
    if (this.n === 8) {
      this.bytes.push(this.cur);
      this.cur = 0;
      this.n = 0;
    }
    return this;
  }
}

/** NAL unit: header byte then the RBSP with emulation prevention (§7.4.1: 00 00 0x → 00 00 03 0x for x ≤ 3). */
function nal(refIdc: number, type: number, rbsp: Buffer): Buffer {
  const out: number[] = [(refIdc << 5) | type];
  let zeros = 0;
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

export const H264_PROFILE_BASELINE = 66;
/** constraint_set0_flag and constraint_set1_flag: the stream is also Constrained Baseline. */
export const H264_CONSTRAINTS = 0xc0;
/** Level 1.0: plenty for a few macroblocks. */
export const H264_LEVEL = 10;
const MB = 16;
/** mb_type of an I_PCM macroblock in an I slice (Table 7-11). */
const I_PCM = 25;
/** slice_type 7: I, and every slice of the picture is I (Table 7-6). */
const SLICE_I_ALL = 7;
const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;

export interface H264Picture {
  sps: Buffer;
  pps: Buffer;
  /** The coded IDR slice NAL unit. */
  idr: Buffer;
}

/** One IDR picture of `width`×`height` (multiples of 16) showing a soft diagonal gradient. */
export function encodePcmPicture(width: number, height: number): H264Picture {
  if (width % MB !== 0 || height % MB !== 0 || width <= 0 || height <= 0)
    throw new RangeError("width and height must be positive multiples of 16");
  const mbsW = width / MB;
  const mbsH = height / MB;
  const sps = new Bits()
    .byte(H264_PROFILE_BASELINE)
    .byte(H264_CONSTRAINTS)
    .byte(H264_LEVEL)
    .ue(0) // seq_parameter_set_id
    .ue(0) // log2_max_frame_num_minus4
    .ue(2) // pic_order_cnt_type 2: output order = decoding order
    .ue(1) // max_num_ref_frames
    .u(1, 0) // gaps_in_frame_num_value_allowed_flag
    .ue(mbsW - 1)
    .ue(mbsH - 1)
    .u(1, 1) // frame_mbs_only_flag
    .u(1, 1) // direct_8x8_inference_flag
    .u(1, 0) // frame_cropping_flag
    .u(1, 0) // vui_parameters_present_flag
    .trailing();
  const pps = new Bits()
    .ue(0) // pic_parameter_set_id
    .ue(0) // seq_parameter_set_id
    .u(1, 0) // entropy_coding_mode_flag: CAVLC
    .u(1, 0) // bottom_field_pic_order_in_frame_present_flag
    .ue(0) // num_slice_groups_minus1
    .ue(0) // num_ref_idx_l0_default_active_minus1
    .ue(0) // num_ref_idx_l1_default_active_minus1
    .u(1, 0) // weighted_pred_flag
    .u(2, 0) // weighted_bipred_idc
    .se(0) // pic_init_qp_minus26
    .se(0) // pic_init_qs_minus26
    .se(0) // chroma_qp_index_offset
    .u(1, 0) // deblocking_filter_control_present_flag
    .u(1, 0) // constrained_intra_pred_flag
    .u(1, 0) // redundant_pic_cnt_present_flag
    .trailing();
  const slice = new Bits()
    .ue(0) // first_mb_in_slice
    .ue(SLICE_I_ALL)
    .ue(0) // pic_parameter_set_id
    .u(4, 0) // frame_num (log2_max_frame_num = 4)
    .ue(0) // idr_pic_id
    .u(1, 0) // no_output_of_prior_pics_flag
    .u(1, 0) // long_term_reference_flag
    .se(0); // slice_qp_delta
  for (let my = 0; my < mbsH; my++) {
    for (let mx = 0; mx < mbsW; mx++) {
      slice.ue(I_PCM).align();
      // Luma then Cb then Cr (4:2:0), raster order inside the macroblock; values stay in 16..235, never 0.
      for (let y = 0; y < MB; y++) for (let x = 0; x < MB; x++) slice.byte(lumaAt(mx * MB + x, my * MB + y, width, height));
      for (let i = 0; i < 64; i++) slice.byte(100 + ((mx * 8) % 64));
      for (let i = 0; i < 64; i++) slice.byte(150 - ((my * 8) % 64));
    }
  }
  return { sps: nal(3, NAL_SPS, sps), pps: nal(3, NAL_PPS, pps), idr: nal(3, NAL_IDR, slice.trailing()) };
}

function lumaAt(x: number, y: number, width: number, height: number): number {
  return 16 + Math.round((219 * (x + y)) / (width + height - 2));
}
