#include "io/compress.hpp"

#include <zlib.h>
#include <zstd.h>

#include <cstring>

namespace bsonpipe::io {

std::string_view codec_extension(Codec c) {
  switch (c) {
    case Codec::kGzip: return ".gz";
    case Codec::kZstd: return ".zst";
    case Codec::kNone: break;
  }
  return "";
}

std::string_view codec_name(Codec c) {
  switch (c) {
    case Codec::kGzip: return "gzip";
    case Codec::kZstd: return "zstd";
    case Codec::kNone: break;
  }
  return "none";
}

Codec detect_codec(ByteSpan head) {
  if (head.size() >= 2 && head[0] == 0x1F && head[1] == 0x8B) return Codec::kGzip;
  if (head.size() >= 4 && head[0] == 0x28 && head[1] == 0xB5 && head[2] == 0x2F && head[3] == 0xFD) return Codec::kZstd;
  return Codec::kNone;
}

int default_level(Codec c) {
  return c == Codec::kZstd ? 3 : 6;
}

namespace {

constexpr std::size_t kOutChunk = 256 * 1024;

Status zerr(const char* what, int rc, const z_stream& zs, std::int64_t offset = -1) {
  std::string msg = std::string(what) + ": " + (zs.msg ? zs.msg : zError(rc));
  return {ErrorCode::kIo, msg, offset};
}

class GzipCompressor final : public BlockCompressor {
 public:
  explicit GzipCompressor(int level) {
    std::memset(&zs_, 0, sizeof zs_);
    // windowBits 15 + 16: write a gzip header and trailer around each member.
    ok_ = deflateInit2(&zs_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~GzipCompressor() override {
    if (ok_) deflateEnd(&zs_);
  }
  Status compress(ByteSpan in, Bytes& out) override {
    if (!ok_) return {ErrorCode::kInternal, "gzip: deflateInit2 failed"};
    deflateReset(&zs_);
    // Into the reused scratch (zero-filled once, not per block), then only the result is kept.
    std::size_t bound = deflateBound(&zs_, in.size());
    if (scratch_.size() < bound) scratch_.resize(bound);
    zs_.next_in = const_cast<Bytef*>(in.data());
    zs_.avail_in = static_cast<uInt>(in.size());
    zs_.next_out = scratch_.data();
    zs_.avail_out = static_cast<uInt>(bound);
    int rc = deflate(&zs_, Z_FINISH);
    if (rc != Z_STREAM_END) return zerr("gzip compression failed", rc, zs_);
    out.insert(out.end(), scratch_.data(), scratch_.data() + (bound - zs_.avail_out));
    return {};
  }

 private:
  z_stream zs_;
  Bytes scratch_;
  bool ok_ = false;
};

class ZstdCompressor final : public BlockCompressor {
 public:
  explicit ZstdCompressor(int level) : cctx_(ZSTD_createCCtx()), level_(level) {}
  ~ZstdCompressor() override { ZSTD_freeCCtx(cctx_); }
  Status compress(ByteSpan in, Bytes& out) override {
    std::size_t bound = ZSTD_compressBound(in.size());
    if (scratch_.size() < bound) scratch_.resize(bound);
    std::size_t n = ZSTD_compressCCtx(cctx_, scratch_.data(), bound, in.data(), in.size(), level_);
    if (ZSTD_isError(n)) return {ErrorCode::kIo, std::string("zstd compression failed: ") + ZSTD_getErrorName(n)};
    out.insert(out.end(), scratch_.data(), scratch_.data() + n);
    return {};
  }

 private:
  ZSTD_CCtx* cctx_;
  Bytes scratch_;
  int level_;
};

class IdentityCompressor final : public BlockCompressor {
 public:
  Status compress(ByteSpan in, Bytes& out) override {
    out.insert(out.end(), in.begin(), in.end());
    return {};
  }
};

class GzipDecompressor final : public StreamDecompressor {
 public:
  GzipDecompressor() {
    std::memset(&zs_, 0, sizeof zs_);
    ok_ = inflateInit2(&zs_, 15 + 16) == Z_OK;
  }
  ~GzipDecompressor() override {
    if (ok_) inflateEnd(&zs_);
  }
  Status feed(ByteSpan in, Bytes& out) override {
    if (!ok_) return {ErrorCode::kInternal, "gzip: inflateInit2 failed"};
    zs_.next_in = const_cast<Bytef*>(in.data());
    zs_.avail_in = static_cast<uInt>(in.size());
    while (zs_.avail_in > 0) {
      if (!in_member_) {
        // Between members: a new member must start with the gzip magic.
        if (zs_.avail_in < 2 || zs_.next_in[0] != 0x1F || zs_.next_in[1] != 0x8B) {
          if (zs_.avail_in == 1 && zs_.next_in[0] == 0x1F) {
            // Member header split across feeds: let inflate buffer it.
          } else {
            return {ErrorCode::kIo, "gzip: data after the end of a member is not another gzip member", consumed_};
          }
        }
        inflateReset(&zs_);
        in_member_ = true;
      }
      zs_.next_out = scratch_.data();
      zs_.avail_out = static_cast<uInt>(scratch_.size());
      uInt before = zs_.avail_in;
      int rc = inflate(&zs_, Z_NO_FLUSH);
      out.insert(out.end(), scratch_.data(), scratch_.data() + (scratch_.size() - zs_.avail_out));
      consumed_ += before - zs_.avail_in;
      if (rc == Z_STREAM_END) {
        in_member_ = false;
      } else if (rc == Z_BUF_ERROR) {
        if (zs_.avail_in == 0) break;  // needs more input
      } else if (rc != Z_OK) {
        return zerr("gzip: corrupt data", rc, zs_, consumed_);
      }
    }
    return {};
  }
  Status finish() override {
    if (in_member_) return {ErrorCode::kIo, "gzip: stream truncated inside a member", consumed_};
    return {};
  }

 private:
  z_stream zs_;
  Bytes scratch_ = Bytes(kOutChunk);  // inflate's output, appended to the caller's buffer
  bool ok_ = false;
  bool in_member_ = false;
  std::int64_t consumed_ = 0;
};

class ZstdDecompressor final : public StreamDecompressor {
 public:
  ZstdDecompressor() : dctx_(ZSTD_createDStream()) { ZSTD_initDStream(dctx_); }
  ~ZstdDecompressor() override { ZSTD_freeDStream(dctx_); }
  Status feed(ByteSpan in, Bytes& out) override {
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    while (ib.pos < ib.size) {
      ZSTD_outBuffer ob{scratch_.data(), scratch_.size(), 0};
      std::size_t before = ib.pos;
      std::size_t rc = ZSTD_decompressStream(dctx_, &ob, &ib);
      out.insert(out.end(), scratch_.data(), scratch_.data() + ob.pos);
      if (ZSTD_isError(rc))
        return {ErrorCode::kIo, std::string("zstd: corrupt data: ") + ZSTD_getErrorName(rc),
                consumed_ + static_cast<std::int64_t>(ib.pos)};
      pending_ = rc != 0;
      if (ib.pos == before && ob.pos == 0 && ib.pos < ib.size) {
        return {ErrorCode::kIo, "zstd: decoder made no progress", consumed_ + static_cast<std::int64_t>(ib.pos)};
      }
    }
    // Flush whatever the decoder still holds for this input.
    while (pending_) {
      ZSTD_outBuffer ob{scratch_.data(), scratch_.size(), 0};
      ZSTD_inBuffer empty{nullptr, 0, 0};
      std::size_t rc = ZSTD_decompressStream(dctx_, &ob, &empty);
      out.insert(out.end(), scratch_.data(), scratch_.data() + ob.pos);
      if (ZSTD_isError(rc))
        return {ErrorCode::kIo, std::string("zstd: corrupt data: ") + ZSTD_getErrorName(rc), consumed_};
      if (ob.pos == 0) break;  // needs more input
      pending_ = rc != 0;
    }
    consumed_ += static_cast<std::int64_t>(in.size());
    return {};
  }
  Status finish() override {
    if (pending_) return {ErrorCode::kIo, "zstd: stream truncated inside a frame", consumed_};
    return {};
  }

 private:
  ZSTD_DStream* dctx_;
  Bytes scratch_ = Bytes(kOutChunk);
  bool pending_ = false;
  std::int64_t consumed_ = 0;
};

class IdentityDecompressor final : public StreamDecompressor {
 public:
  Status feed(ByteSpan in, Bytes& out) override {
    out.insert(out.end(), in.begin(), in.end());
    return {};
  }
  Status finish() override { return {}; }
};

}  // namespace

std::unique_ptr<BlockCompressor> BlockCompressor::create(Codec codec, int level) {
  switch (codec) {
    case Codec::kGzip: return std::make_unique<GzipCompressor>(level);
    case Codec::kZstd: return std::make_unique<ZstdCompressor>(level);
    case Codec::kNone: break;
  }
  return std::make_unique<IdentityCompressor>();
}

std::unique_ptr<StreamDecompressor> StreamDecompressor::create(Codec codec) {
  switch (codec) {
    case Codec::kGzip: return std::make_unique<GzipDecompressor>();
    case Codec::kZstd: return std::make_unique<ZstdDecompressor>();
    case Codec::kNone: break;
  }
  return std::make_unique<IdentityDecompressor>();
}

}  // namespace bsonpipe::io
