#include "io/compress.hpp"

#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#ifdef BSONPIPE_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

namespace bsonpipe::io {

namespace {

constexpr std::size_t kOutChunk = 256 * 1024;

// The member layout written by GzipCompressor: a gzip header with FEXTRA and one "BP" subfield
// (member size, raw size), raw deflate data, CRC-32 and ISIZE. Every field is fixed (MTIME 0,
// OS 3), so a member is a function of its raw bytes and the level.
constexpr std::size_t kBpHeader = 24;
constexpr std::size_t kGzipTrailer = 8;
// Largest member or raw size taken from a size field: far above any block size, and it bounds
// what a corrupt field can make the reader allocate.
constexpr std::uint32_t kMaxWholeMember = 1u << 30;

void put_le32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t get_le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}

class GzipCompressor final : public BlockCompressor {
 public:
  // libdeflate levels 1-9 match zlib's in speed/ratio intent (6 the default); 0 stores.
  explicit GzipCompressor(int level) : c_(libdeflate_alloc_compressor(level < 0 ? 6 : level > 12 ? 12 : level)) {}
  ~GzipCompressor() override { libdeflate_free_compressor(c_); }
  Status compress(ByteSpan in, Bytes& out) override {
    if (c_ == nullptr) return {ErrorCode::kInternal, "gzip: cannot allocate a libdeflate compressor"};
    std::size_t bound = libdeflate_deflate_compress_bound(c_, in.size());
    if (in.size() > kMaxWholeMember) {
      // Too large for the size field: a plain member (never happens with dump-sized blocks).
      std::size_t gz_bound = libdeflate_gzip_compress_bound(c_, in.size());
      std::size_t at = out.size();
      out.resize(at + gz_bound);
      std::size_t n = libdeflate_gzip_compress(c_, in.data(), in.size(), out.data() + at, gz_bound);
      out.resize(at + n);
      if (n == 0) return {ErrorCode::kInternal, "gzip compression failed"};
      return {};
    }
    // Into the reused scratch (its pages stay mapped), then only the member is appended.
    if (scratch_.size() < kBpHeader + bound + kGzipTrailer) scratch_.resize(kBpHeader + bound + kGzipTrailer);
    std::uint8_t* m = scratch_.data();
    std::size_t n = libdeflate_deflate_compress(c_, in.data(), in.size(), m + kBpHeader, bound);
    if (n == 0) return {ErrorCode::kInternal, "gzip compression failed"};
    const std::size_t member = kBpHeader + n + kGzipTrailer;
    static constexpr std::uint8_t kHead[16] = {0x1F, 0x8B, 8, 4, 0, 0, 0, 0, 0, 3, 12, 0, 'B', 'P', 8, 0};
    std::memcpy(m, kHead, sizeof kHead);
    put_le32(m + 16, static_cast<std::uint32_t>(member));
    put_le32(m + 20, static_cast<std::uint32_t>(in.size()));
    std::uint8_t* t = m + kBpHeader + n;
    put_le32(t, libdeflate_crc32(0, in.data(), in.size()));
    put_le32(t + 4, static_cast<std::uint32_t>(in.size()));
    out.insert(out.end(), m, m + member);
    return {};
  }

 private:
  libdeflate_compressor* c_;
  Bytes scratch_;
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

// A streaming inflater for one gzip member at a time (header, deflate data, trailer checked).
class MemberInflater {
 public:
  enum class Step : std::uint8_t { kNeedInput, kMemberEnd, kError };
  virtual ~MemberInflater() = default;
  virtual void start_member() = 0;
  // Consumes input from in/n (both advanced), appending output to `out`, until the input is used
  // up (kNeedInput) or the member ends (kMemberEnd; what follows it is left in in/n).
  virtual Step inflate(const std::uint8_t*& in, std::size_t& n, Bytes& out, std::string& error) = 0;
};

class ZlibInflater final : public MemberInflater {
 public:
  ZlibInflater() {
    std::memset(&zs_, 0, sizeof zs_);
    ok_ = inflateInit2(&zs_, 15 + 16) == Z_OK;
  }
  ~ZlibInflater() override {
    if (ok_) inflateEnd(&zs_);
  }
  void start_member() override { inflateReset(&zs_); }
  Step inflate(const std::uint8_t*& in, std::size_t& n, Bytes& out, std::string& error) override {
    if (!ok_) {
      error = "inflateInit2 failed";
      return Step::kError;
    }
    while (n > 0) {
      const uInt avail = static_cast<uInt>(std::min<std::size_t>(n, std::numeric_limits<uInt>::max()));
      zs_.next_in = const_cast<Bytef*>(in);
      zs_.avail_in = avail;
      zs_.next_out = scratch_.data();
      zs_.avail_out = static_cast<uInt>(scratch_.size());
      int rc = ::inflate(&zs_, Z_NO_FLUSH);
      out.insert(out.end(), scratch_.data(), scratch_.data() + (scratch_.size() - zs_.avail_out));
      in += avail - zs_.avail_in;
      n -= avail - zs_.avail_in;
      if (rc == Z_STREAM_END) return Step::kMemberEnd;
      if (rc == Z_BUF_ERROR && zs_.avail_in == 0) break;
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        error = zs_.msg ? zs_.msg : zError(rc);
        return Step::kError;
      }
    }
    return Step::kNeedInput;
  }

 private:
  z_stream zs_;
  Bytes scratch_ = Bytes(kOutChunk);
  bool ok_ = false;
};

#ifdef BSONPIPE_HAVE_ISAL
class IsalInflater final : public MemberInflater {
 public:
  IsalInflater() { isal_inflate_init(&st_); }
  void start_member() override {
    isal_inflate_reset(&st_);
    st_.crc_flag = ISAL_GZIP;  // parses the header, checks CRC-32 and ISIZE
  }
  Step inflate(const std::uint8_t*& in, std::size_t& n, Bytes& out, std::string& error) override {
    while (true) {
      const std::uint32_t avail = static_cast<std::uint32_t>(std::min<std::size_t>(n, 1u << 30));
      st_.next_in = const_cast<std::uint8_t*>(in);
      st_.avail_in = avail;
      st_.next_out = scratch_.data();
      st_.avail_out = static_cast<std::uint32_t>(scratch_.size());
      int rc = isal_inflate(&st_);
      out.insert(out.end(), scratch_.data(), st_.next_out);
      in += avail - st_.avail_in;
      n -= avail - st_.avail_in;
      if (rc < 0) {
        error = rc == ISAL_INCORRECT_CHECKSUM ? "incorrect data check"
                : rc == ISAL_INVALID_WRAPPER  ? "incorrect header"
                                              : "invalid deflate data (" + std::to_string(rc) + ")";
        return Step::kError;
      }
      if (st_.block_state == ISAL_BLOCK_FINISH) return Step::kMemberEnd;
      if (st_.avail_out == 0) continue;     // output full: go on
      if (n == 0) return Step::kNeedInput;  // all input taken (the state may hold some of it)
      if (avail == st_.avail_in && st_.next_out == scratch_.data()) {
        error = "the decoder made no progress";
        return Step::kError;
      }
    }
  }

 private:
  inflate_state st_;
  Bytes scratch_ = Bytes(kOutChunk);
};
#endif

std::unique_ptr<MemberInflater> make_inflater(GzipInflater which) {
#ifdef BSONPIPE_HAVE_ISAL
  if (which != GzipInflater::kZlib) return std::make_unique<IsalInflater>();
#else
  (void)which;
#endif
  return std::make_unique<ZlibInflater>();
}

// Decodes any sequence of gzip members. At each member start the first bytes are gathered until
// the header tells whether it carries the "BP" size field: such a member is gathered whole
// (or used in place) and decoded with libdeflate in one call; any other member is streamed.
class GzipDecompressor final : public StreamDecompressor {
 public:
  GzipDecompressor(GzipInflater which, bool whole_members)
      : stream_(make_inflater(which)), d_(libdeflate_alloc_decompressor()), whole_members_(whole_members) {}
  ~GzipDecompressor() override { libdeflate_free_decompressor(d_); }

  Status feed(ByteSpan in, Bytes& out) override {
    const std::uint8_t* p = in.data();
    std::size_t n = in.size();
    while (n > 0) {
      switch (state_) {
        case State::kHeader:
          if (Status s = probe(p, n, out); !s) return s;
          break;
        case State::kWhole: {
          const std::size_t rest = member_size_ - buf_.size();
          if (buf_.size() == kBpHeader && n >= rest) {  // the header was probed, the rest is here: no copy
            if (Status s = decode_whole(ByteSpan(p, rest), out); !s) return s;
          } else {
            const std::size_t take = std::min(n, rest);
            buf_.insert(buf_.end(), p, p + take);
            if (buf_.size() < member_size_) return {};  // all of `in` was taken
            if (Status s = decode_whole(ByteSpan(buf_).subspan(kBpHeader), out); !s) return s;
          }
          buf_.clear();
          p += rest;
          n -= rest;
          break;
        }
        case State::kStream: {
          std::size_t before = n;
          std::string error;
          auto step = stream_->inflate(p, n, out, error);
          consumed_ += static_cast<std::int64_t>(before - n);
          if (step == MemberInflater::Step::kError) return {ErrorCode::kIo, "gzip: corrupt data: " + error, consumed_};
          if (step == MemberInflater::Step::kMemberEnd) state_ = State::kHeader;
          break;
        }
      }
    }
    return {};
  }

  // Reads cut at member boundaries decode in place: after a member with the size field, the next
  // member's header, then the rest of the member in one read.
  std::size_t next_read(std::size_t usual) const override {
    if (state_ == State::kWhole) return member_size_ - buf_.size();
    if (state_ == State::kHeader && last_whole_ && buf_.size() < kBpHeader) return kBpHeader - buf_.size();
    return usual;
  }

  Status finish() override {
    if (state_ != State::kHeader || !buf_.empty())
      return {ErrorCode::kIo, "gzip: stream truncated inside a member",
              consumed_ + static_cast<std::int64_t>(buf_.size())};
    return {};
  }

 private:
  enum class State : std::uint8_t { kHeader, kWhole, kStream };

  // Gathers header bytes into buf_ until the member's kind is known (never more bytes than any
  // valid member of that kind has, so a stream never ends inside the probe unless truncated).
  Status probe(const std::uint8_t*& p, std::size_t& n, Bytes& out) {
    auto need = [&](std::size_t k) {
      while (buf_.size() < k && n > 0) {
        buf_.push_back(*p++);
        --n;
      }
      return buf_.size() >= k;
    };
    if (!need(2)) return check_magic();
    if (Status s = check_magic(); !s) return s;
    bool whole = false;
    if (whole_members_ && need(4)) {
      if ((buf_[3] & 4) == 0) return start_stream(out);  // no FEXTRA: not ours
      if (!need(12)) return {};
      if (buf_[10] != 12 || buf_[11] != 0) return start_stream(out);
      if (!need(kBpHeader)) return {};
      whole = buf_[2] == 8 && buf_[3] == 4 && buf_[12] == 'B' && buf_[13] == 'P' && buf_[14] == 8 && buf_[15] == 0;
    } else if (whole_members_) {
      return {};
    }
    if (!whole) return start_stream(out);
    member_size_ = get_le32(buf_.data() + 16);
    raw_size_ = get_le32(buf_.data() + 20);
    if (member_size_ < kBpHeader + 2 + kGzipTrailer || member_size_ > kMaxWholeMember || raw_size_ > kMaxWholeMember ||
        raw_size_ / 1032 > member_size_)
      return {ErrorCode::kIo, "gzip: corrupt member size field", consumed_};
    state_ = State::kWhole;
    return {};
  }

  Status check_magic() const {
    if ((!buf_.empty() && buf_[0] != 0x1F) || (buf_.size() >= 2 && buf_[1] != 0x8B))
      return {ErrorCode::kIo, "gzip: data after the end of a member is not another gzip member", consumed_};
    return {};
  }

  // Hands the gathered header bytes to the streaming inflater; the rest of the input follows.
  Status start_stream(Bytes& out) {
    last_whole_ = false;
    stream_->start_member();
    state_ = State::kStream;
    const std::uint8_t* hp = buf_.data();
    std::size_t hn = buf_.size();
    std::string error;
    auto step = stream_->inflate(hp, hn, out, error);
    if (step == MemberInflater::Step::kError) return {ErrorCode::kIo, "gzip: corrupt data: " + error, consumed_};
    // A member cannot end within the few header bytes probed.
    if (step == MemberInflater::Step::kMemberEnd || hn != 0)
      return {ErrorCode::kIo, "gzip: corrupt member header", consumed_};
    consumed_ += static_cast<std::int64_t>(buf_.size());
    buf_.clear();
    return {};
  }

  // `body`: the member after its header (the deflate data and the trailer); member_size_ and
  // raw_size_ come from the header.
  Status decode_whole(ByteSpan body, Bytes& out) {
    const std::size_t deflate_len = body.size() - kGzipTrailer;
    const std::uint8_t* trailer = body.data() + deflate_len;
    const std::size_t at = out.size();
    out.resize(at + raw_size_);
    std::size_t used = 0;
    auto rc =
        libdeflate_deflate_decompress_ex(d_, body.data(), deflate_len, out.data() + at, raw_size_, &used, nullptr);
    if (rc != LIBDEFLATE_SUCCESS || used != deflate_len || get_le32(trailer + 4) != raw_size_ ||
        get_le32(trailer) != libdeflate_crc32(0, out.data() + at, raw_size_)) {
      out.resize(at);
      return {ErrorCode::kIo, "gzip: corrupt data in a member", consumed_};
    }
    consumed_ += static_cast<std::int64_t>(member_size_);
    state_ = State::kHeader;
    last_whole_ = true;
    return {};
  }

  std::unique_ptr<MemberInflater> stream_;
  libdeflate_decompressor* d_;
  bool whole_members_;
  State state_ = State::kHeader;
  Bytes buf_;                // header bytes being probed, or a whole member being gathered
  bool last_whole_ = false;  // the last member carried the size field (the next one likely does too)
  std::size_t member_size_ = 0;
  std::uint32_t raw_size_ = 0;
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
    case Codec::kGzip: {
      // Benchmark knob (bench/ab_dump_restore.sh): "zlib" reads every member with zlib's
      // streaming inflater, as before libdeflate and ISA-L; "isal" streams every member with ISA-L.
      const char* env = std::getenv("BSONPIPE_GZIP_INFLATER");
      const std::string_view knob = env ? env : "";
      if (knob == "zlib") return std::make_unique<GzipDecompressor>(GzipInflater::kZlib, false);
      if (knob == "isal") return std::make_unique<GzipDecompressor>(GzipInflater::kIsal, false);
      return std::make_unique<GzipDecompressor>(GzipInflater::kAuto, true);
    }
    case Codec::kZstd: return std::make_unique<ZstdDecompressor>();
    case Codec::kNone: break;
  }
  return std::make_unique<IdentityDecompressor>();
}

bool gzip_inflater_available(GzipInflater which) {
#ifdef BSONPIPE_HAVE_ISAL
  (void)which;
  return true;
#else
  return which != GzipInflater::kIsal;
#endif
}

std::string_view gzip_inflater_name(GzipInflater which) {
#ifdef BSONPIPE_HAVE_ISAL
  if (which != GzipInflater::kZlib) return "isa-l";
#else
  (void)which;
#endif
  return "zlib";
}

std::unique_ptr<StreamDecompressor> create_gzip_decompressor(GzipInflater which, bool whole_members) {
  return std::make_unique<GzipDecompressor>(which, whole_members);
}

}  // namespace bsonpipe::io
