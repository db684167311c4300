//! Image conversions shared by the families' processors.

/// RGBA8 → RGB8 over an opaque white background, bit-exact with Pillow's `alpha_composite`
/// (7-bit fixed point, rounded division by 255), which transformers' `convert_to_rgb` uses.
pub fn composite_on_white(rgba: &[u8]) -> Vec<u8> {
    const PRECISION_BITS: u32 = 7;
    let div255 = |a: u32| ((a >> 8) + a) >> 8;
    let mut out = Vec::with_capacity(rgba.len() / 4 * 3);
    for px in rgba.chunks_exact(4) {
        let a = px[3] as u32;
        if a == 0 {
            out.extend_from_slice(&[255, 255, 255]);
            continue;
        }
        let blend = 255 * (255 - a);
        let outa255 = a * 255 + blend;
        let coef1 = a * 255 * 255 * (1 << PRECISION_BITS) / outa255;
        let coef2 = 255 * (1 << PRECISION_BITS) - coef1;
        for &c in &px[..3] {
            let tmp = c as u32 * coef1 + 255 * coef2;
            out.push((div255(tmp + (0x80 << PRECISION_BITS)) >> PRECISION_BITS) as u8);
        }
    }
    out
}
