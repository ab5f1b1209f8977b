// JPEG decoding with libjpeg-turbo, set up exactly as Pillow sets it up (JCS_RGB output,
// JDCT_ISLOW, fancy upsampling), so graybench's gray equals Pillow's convert("L") bit for bit.
#include <algorithm>
#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <string>

#include "core/errors.hpp"
#include "io/codec_internal.hpp"
#include "io/limits.hpp"

extern "C" {
#include <jerror.h>
#include <jpeglib.h>
}

namespace graybench::detail {

namespace {

/// libjpeg's error manager with the jump target: error_exit must never return or throw
/// through C frames, so it longjmps back to decode_jpeg, which throws on our side.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

extern "C" void on_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

extern "C" void on_message(j_common_ptr cinfo, int level) {
  // A truncated file is an error, as in Pillow ("image file is truncated"); libjpeg itself
  // would pad it with grey. Other warnings (extraneous bytes, ...) are ignored, as Pillow does.
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) on_error_exit(cinfo);
}

/// Destroys the decompressor however decode_jpeg leaves; declared before setjmp so that a
/// longjmp never skips its destructor.
struct DecompressGuard {
  jpeg_decompress_struct* cinfo;
  ~DecompressGuard() { jpeg_destroy_decompress(cinfo); }
};

/// Pillow's CMYK -> RGB (libImaging/Convert.c, cmyk2rgb), applied after Pillow's "CMYK;I"
/// unpacking, which inverts every sample (Adobe polarity is always assumed).
void inverted_cmyk_to_rgb(const std::uint8_t* in, std::uint8_t* out, std::size_t pixels) {
  for (std::size_t i = 0; i < pixels; ++i, in += 4, out += 3) {
    const int nk = in[3];  // 255 - (255 - k)
    for (int c = 0; c < 3; ++c) {
      const int tmp = (255 - in[c]) * nk + 128;
      const int v = nk - (((tmp >> 8) + tmp) >> 8);
      out[c] = static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
}

}  // namespace

bool is_jpeg(std::span<const std::uint8_t> encoded) {
  return encoded.size() >= 3 && encoded[0] == 0xFF && encoded[1] == 0xD8 && encoded[2] == 0xFF;
}

void decode_jpeg(std::span<const std::uint8_t> encoded, Image& out, std::uint64_t max_pixels) {
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error_exit;
  err.pub.emit_message = on_message;
  DecompressGuard guard{&cinfo};  // jpeg_destroy_decompress is a no-op before create
  // Nothing with a destructor is created between here and the last libjpeg call.
  if (setjmp(err.jump)) {
    throw ImageError(ImageStatus::kDecodeError,
                     std::string("decode failed: libjpeg: ") + err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, encoded.data(), static_cast<unsigned long>(encoded.size()));
  jpeg_read_header(&cinfo, TRUE);
  // libjpeg's own reading of the frame header, before it allocates anything for the image (a
  // progressive file's coefficients are allocated by jpeg_start_decompress). No C frame is
  // active here.
  enforce_pixel_limit(cinfo.image_width, cinfo.image_height, max_pixels);

  bool cmyk = false;
  switch (static_cast<int>(cinfo.jpeg_color_space)) {  // int: libjpeg has many more
    case JCS_GRAYSCALE:
      cinfo.out_color_space = JCS_GRAYSCALE;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo.out_color_space = JCS_CMYK;  // libjpeg turns YCCK into CMYK
      cmyk = true;
      break;
    case JCS_YCbCr:
    case JCS_RGB:
      cinfo.out_color_space = JCS_RGB;
      break;
    default:
      // Pillow refuses anything but 1, 3 or 4 components too. No C frame is active here.
      throw ImageError(ImageStatus::kDecodeError, "decode failed: unsupported JPEG colour space (" +
                                                      std::to_string(cinfo.num_components) +
                                                      " components)");
  }
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&cinfo);

  const auto width = static_cast<std::size_t>(cinfo.output_width);
  const auto height = static_cast<std::size_t>(cinfo.output_height);
  const auto comps = static_cast<std::size_t>(cinfo.output_components);
  out.width = static_cast<int>(width);
  out.height = static_cast<int>(height);
  out.channels = cmyk ? 3 : static_cast<int>(comps);
  out.bit_depth = 8;
  // CMYK rows are decoded one at a time into a scratch row past the RGB image, then
  // converted into place; the scratch row is cut off at the end.
  const std::size_t row_in = width * comps;
  const std::size_t row_out = width * static_cast<std::size_t>(out.channels);
  const std::size_t tail = cmyk ? row_in : 0;
  out.pixels.resize(row_out * height + tail);
  std::uint8_t* base = out.pixels.data();
  while (cinfo.output_scanline < cinfo.output_height) {
    const std::size_t y = cinfo.output_scanline;
    if (cmyk) {
      JSAMPROW row = base + row_out * height;
      jpeg_read_scanlines(&cinfo, &row, 1);
      inverted_cmyk_to_rgb(row, base + row_out * y, width);
    } else {
      JSAMPROW rows[16];
      const std::size_t n = std::min<std::size_t>(16, height - y);
      for (std::size_t k = 0; k < n; ++k)
        rows[k] = base + row_out * (y + k);
      jpeg_read_scanlines(&cinfo, rows, static_cast<JDIMENSION>(n));
    }
  }
  jpeg_finish_decompress(&cinfo);
  if (tail) out.pixels.resize(row_out * height);
}

std::string jpeg_library_version() {
#define GRAYBENCH_STR2(x) #x
#define GRAYBENCH_STR(x) GRAYBENCH_STR2(x)
  return GRAYBENCH_STR(LIBJPEG_TURBO_VERSION);
#undef GRAYBENCH_STR
#undef GRAYBENCH_STR2
}

}  // namespace graybench::detail
