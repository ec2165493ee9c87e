// @dale/onednn: 2-D convolutions, their gradients and batched matrix products with oneDNN, on float32 data that lives
// in a JavaScript buffer (tfjs' wasm heap): no copies in or out. Data is NHWC, filters HWIO (tfjs' layouts). Written
// against the plain C N-API (node_api.h) and oneDNN 2.x's C++ API (Debian's libdnnl-dev).
//
// Every entry point takes (buffer, offset, offset, offset, dims), where `buffer` is a Uint8Array over the memory (an
// ArrayBuffer or a SharedArrayBuffer), the offsets are in bytes, and dims is an Int32Array; for the convolutions
//   [n, h, w, ci, kh, kw, co, ho, wo, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, pad_bottom, pad_right]
// and for matmul the 7 entries described there. Every tensor is checked to lie inside the buffer: a bad argument
// throws a JavaScript error naming the function, rather than read or write outside it.
#include <node_api.h>

#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>

namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

struct Problem {
  int64_t n, h, w, ci, kh, kw, co, ho, wo, sh, sw, dh, dw, pt, pl, pb, pr;
  memory::desc src() const { return memory::desc({n, ci, h, w}, dt::f32, tag::nhwc); }
  memory::desc wei() const { return memory::desc({co, ci, kh, kw}, dt::f32, tag::hwio); }
  memory::desc dst() const { return memory::desc({n, co, ho, wo}, dt::f32, tag::nhwc); }
  memory::dims strides() const { return {sh, sw}; }
  memory::dims dilates() const { return {dh - 1, dw - 1}; }
  memory::dims pad_l() const { return {pt, pl}; }
  memory::dims pad_r() const { return {pb, pr}; }
  std::string key(const char* kind) const {
    std::string k(kind);
    for (int64_t v : {n, h, w, ci, kh, kw, co, ho, wo, sh, sw, dh, dw, pt, pl, pb, pr}) k += "," + std::to_string(v);
    return k;
  }
};

// One engine, stream and primitive cache per JavaScript thread (a Node worker thread loads the addon too, and a
// stream is not thread-safe).
dnnl::engine& cpu() {
  thread_local dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream& strm() {
  thread_local dnnl::stream s(cpu());
  return s;
}

// Weights in the layout oneDNN chooses ("any"): with tfjs' HWIO layout as given, oneDNN 2.6 falls back to im2col and
// GEMM; with its own blocked layout it runs its direct JIT convolutions. The filters are small, so each call
// reorders them (or, for the filter gradient, the result) between the two layouts.
memory::desc any_weights(const Problem& p) { return memory::desc({p.co, p.ci, p.kh, p.kw}, dt::f32, tag::any); }

dnnl::convolution_forward::primitive_desc forward_pd(const Problem& p) {
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, p.src(),
                                    any_weights(p), p.dst(), p.strides(), p.dilates(), p.pad_l(), p.pad_r());
  return dnnl::convolution_forward::primitive_desc(d, cpu());
}

// A primitive with its weights layout, the reorder between that layout and HWIO (when they differ) and a buffer for
// the weights in its layout. Created once per problem and kind (a JIT compile each), then reused.
struct Entry {
  dnnl::primitive prim;
  bool reorder = false;
  dnnl::memory weights;     // in the primitive's layout
  dnnl::primitive convert;  // HWIO -> primitive layout (forward, data gradient) or back (filter gradient)
};

thread_local std::unordered_map<std::string, Entry> cache;

Entry make_entry(dnnl::primitive prim, const memory::desc& prim_weights, const Problem& p, bool to_user) {
  Entry e;
  e.prim = prim;
  e.reorder = prim_weights != p.wei();
  if (e.reorder) {
    e.weights = memory(prim_weights, cpu());
    e.convert = to_user ? dnnl::reorder(dnnl::reorder::primitive_desc(cpu(), prim_weights, cpu(), p.wei()))
                        : dnnl::reorder(dnnl::reorder::primitive_desc(cpu(), p.wei(), cpu(), prim_weights));
  }
  return e;
}

Entry make_forward(const Problem& p) {
  auto pd = forward_pd(p);
  return make_entry(dnnl::convolution_forward(pd), pd.weights_desc(), p, false);
}

Entry make_backward_data(const Problem& p) {
  dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, p.src(), any_weights(p), p.dst(),
                                          p.strides(), p.dilates(), p.pad_l(), p.pad_r());
  dnnl::convolution_backward_data::primitive_desc pd(d, cpu(), forward_pd(p));
  return make_entry(dnnl::convolution_backward_data(pd), pd.weights_desc(), p, false);
}

Entry make_backward_weights(const Problem& p) {
  dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, p.src(), any_weights(p), p.dst(),
                                             p.strides(), p.dilates(), p.pad_l(), p.pad_r());
  dnnl::convolution_backward_weights::primitive_desc pd(d, cpu(), forward_pd(p));
  return make_entry(dnnl::convolution_backward_weights(pd), pd.diff_weights_desc(), p, true);
}

Entry& get(const std::string& key, Entry (*make)(const Problem&), const Problem& p) {
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  return cache.emplace(key, make(p)).first->second;
}

napi_value throw_error(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return nullptr;
}

// One call's arguments (buffer, offset, offset, offset, dims): the buffer's bytes, three byte offsets into it, and the
// dims array of the expected length.
struct Call {
  uint8_t* base = nullptr;
  int64_t length = 0;
  int64_t off[3] = {0, 0, 0};
  const int32_t* dims = nullptr;
};

// Reads and checks a call's arguments for function `name`; on a bad argument throws a JavaScript error naming it.
bool read_call(napi_env env, napi_callback_info info, const char* name, size_t dims_len, Call* c) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 5) {
    throw_error(env, std::string(name) + ": expected (buffer, offset, offset, offset, dims)");
    return false;
  }
  bool is_ta = false;
  napi_is_typedarray(env, argv[0], &is_ta);
  if (!is_ta) {
    throw_error(env, std::string(name) + ": the buffer must be a typed array over the data");
    return false;
  }
  napi_typedarray_type ta_type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, argv[0], &ta_type, &length, &data, nullptr, nullptr) != napi_ok || data == nullptr ||
      ta_type != napi_uint8_array) {
    throw_error(env, std::string(name) + ": the buffer must be a Uint8Array");
    return false;
  }
  for (int i = 0; i < 3; i++) {
    double v = 0;
    if (napi_get_value_double(env, argv[1 + i], &v) != napi_ok || v < 0 || v != static_cast<double>(static_cast<int64_t>(v)) ||
        static_cast<int64_t>(v) % 4 != 0) {
      throw_error(env, std::string(name) + ": offsets must be non-negative multiples of 4");
      return false;
    }
    c->off[i] = static_cast<int64_t>(v);
  }
  napi_typedarray_type dims_type;
  size_t got = 0;
  void* dims_data = nullptr;
  if (napi_get_typedarray_info(env, argv[4], &dims_type, &got, &dims_data, nullptr, nullptr) != napi_ok ||
      dims_type != napi_int32_array || got != dims_len) {
    throw_error(env, std::string(name) + ": dims must be an Int32Array of " + std::to_string(dims_len) + " entries");
    return false;
  }
  c->base = static_cast<uint8_t*>(data);
  c->length = static_cast<int64_t>(length);
  c->dims = static_cast<const int32_t*>(dims_data);
  return true;
}

// Whether the three tensors, of `sizes` float32 elements at the call's offsets, lie inside the buffer; throws if not.
bool in_bounds(napi_env env, const char* name, const Call& c, const int64_t sizes[3]) {
  for (int i = 0; i < 3; i++) {
    if (c.off[i] + 4 * sizes[i] > c.length) {
      throw_error(env, std::string(name) + ": a tensor would reach past the end of the buffer");
      return false;
    }
  }
  return true;
}

template <int Kind>
napi_value run(napi_env env, napi_callback_info info) {
  static const char* names[] = {"conv2d", "conv2dBackpropInput", "conv2dBackpropFilter"};
  const char* name = names[Kind];
  Call c;
  if (!read_call(env, info, name, 17, &c)) return nullptr;
  const int32_t* d = c.dims;
  for (int i = 0; i < 13; i++) {
    if (d[i] < 1) return throw_error(env, std::string(name) + ": sizes, strides and dilations must be positive");
  }
  const Problem p{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15], d[16]};
  // Sizes in elements of the three tensors, in argument order.
  const int64_t x = p.n * p.h * p.w * p.ci, wgt = p.kh * p.kw * p.ci * p.co, y = p.n * p.ho * p.wo * p.co;
  int64_t sizes[3];
  if (Kind == 0) sizes[0] = x, sizes[1] = wgt, sizes[2] = y;       // (x, filter) -> y
  else if (Kind == 1) sizes[0] = y, sizes[1] = wgt, sizes[2] = x;  // (dy, filter) -> dx
  else sizes[0] = x, sizes[1] = y, sizes[2] = wgt;                 // (x, dy) -> dfilter
  if (!in_bounds(env, name, c, sizes)) return nullptr;
  try {
    void* a = c.base + c.off[0];
    void* b = c.base + c.off[1];
    void* out = c.base + c.off[2];
    if (Kind == 0) {
      Entry& e = get(p.key("f"), make_forward, p);
      memory src(p.src(), cpu(), a), wei(p.wei(), cpu(), b), dst(p.dst(), cpu(), out);
      if (e.reorder) e.convert.execute(strm(), {{DNNL_ARG_FROM, wei}, {DNNL_ARG_TO, e.weights}});
      e.prim.execute(strm(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, e.reorder ? e.weights : wei}, {DNNL_ARG_DST, dst}});
    } else if (Kind == 1) {
      Entry& e = get(p.key("d"), make_backward_data, p);
      memory ddst(p.dst(), cpu(), a), wei(p.wei(), cpu(), b), dsrc(p.src(), cpu(), out);
      if (e.reorder) e.convert.execute(strm(), {{DNNL_ARG_FROM, wei}, {DNNL_ARG_TO, e.weights}});
      e.prim.execute(strm(), {{DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_WEIGHTS, e.reorder ? e.weights : wei}, {DNNL_ARG_DIFF_SRC, dsrc}});
    } else {
      Entry& e = get(p.key("w"), make_backward_weights, p);
      memory src(p.src(), cpu(), a), ddst(p.dst(), cpu(), b), dwei(p.wei(), cpu(), out);
      e.prim.execute(strm(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_DIFF_WEIGHTS, e.reorder ? e.weights : dwei}});
      if (e.reorder) e.convert.execute(strm(), {{DNNL_ARG_FROM, e.weights}, {DNNL_ARG_TO, dwei}});
    }
    strm().wait();
  } catch (const dnnl::error& e) {
    return throw_error(env, std::string(name) + ": oneDNN: " + e.what());
  }
  return nullptr;
}

// Batched matrix products c[i] = op(a[i or 0]) op(b[i or 0]) (op: optional transpose), row-major, one batch axis of which
// either side may have size 1 (broadcast). dims: Int32Array [batch_a, batch_b, m, k, n, transpose_a, transpose_b].
// A transposed operand is read in place through its strides.
struct MatMul {
  int64_t ba, bb, m, k, n;
  bool ta, tb;
  memory::desc a() const { return memory::desc({ba, m, k}, dt::f32, ta ? memory::dims{m * k, 1, m} : memory::dims{m * k, k, 1}); }
  memory::desc b() const { return memory::desc({bb, k, n}, dt::f32, tb ? memory::dims{k * n, 1, k} : memory::dims{k * n, n, 1}); }
  memory::desc c() const { return memory::desc({std::max(ba, bb), m, n}, dt::f32, memory::dims{m * n, n, 1}); }
  std::string key() const {
    std::string s = "m";
    for (int64_t v : {ba, bb, m, k, n, static_cast<int64_t>(ta), static_cast<int64_t>(tb)}) s += "," + std::to_string(v);
    return s;
  }
};

dnnl::primitive& matmul_primitive(const MatMul& mm) {
  thread_local std::unordered_map<std::string, dnnl::primitive> mm_cache;
  const std::string key = mm.key();
  auto it = mm_cache.find(key);
  if (it != mm_cache.end()) return it->second;
  dnnl::matmul::desc d(mm.a(), mm.b(), mm.c());
  return mm_cache.emplace(key, dnnl::matmul(dnnl::matmul::primitive_desc(d, cpu()))).first->second;
}

napi_value matmul(napi_env env, napi_callback_info info) {
  const char* name = "matmul";
  Call c;
  if (!read_call(env, info, name, 7, &c)) return nullptr;
  const int32_t* d = c.dims;
  const MatMul mm{d[0], d[1], d[2], d[3], d[4], d[5] != 0, d[6] != 0};
  if (mm.ba < 1 || mm.bb < 1 || mm.m < 1 || mm.k < 1 || mm.n < 1 || (mm.ba != mm.bb && mm.ba != 1 && mm.bb != 1)) {
    return throw_error(env, "matmul: sizes must be positive and the batches equal or 1");
  }
  const int64_t sizes[3] = {mm.ba * mm.m * mm.k, mm.bb * mm.k * mm.n, std::max(mm.ba, mm.bb) * mm.m * mm.n};
  if (!in_bounds(env, name, c, sizes)) return nullptr;
  try {
    dnnl::primitive& prim = matmul_primitive(mm);
    memory a_mem(mm.a(), cpu(), c.base + c.off[0]), b_mem(mm.b(), cpu(), c.base + c.off[1]), c_mem(mm.c(), cpu(), c.base + c.off[2]);
    prim.execute(strm(), {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
    strm().wait();
  } catch (const dnnl::error& e) {
    return throw_error(env, std::string(name) + ": oneDNN: " + e.what());
  }
  return nullptr;
}

napi_value version(napi_env env, napi_callback_info) {
  const dnnl_version_t* v = dnnl_version();
  std::string s = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  napi_value out;
  napi_create_string_utf8(env, s.c_str(), s.size(), &out);
  return out;
}

napi_value cached(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_uint32(env, static_cast<uint32_t>(cache.size()), &out);
  return out;
}

// Sets the OpenMP threads of the calling thread (the one that runs the convolutions): oneDNN's thread count.
napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 1 ||
      napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    return throw_error(env, "setThreads: expected a positive integer");
  }
  omp_set_num_threads(n);
  return nullptr;
}

napi_value get_threads(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_int32(env, omp_get_max_threads(), &out);
  return out;
}

napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"conv2d", nullptr, run<0>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"conv2dBackpropInput", nullptr, run<1>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"conv2dBackpropFilter", nullptr, run<2>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"matmul", nullptr, matmul, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"version", nullptr, version, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"cachedPrimitives", nullptr, cached, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, set_threads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"threads", nullptr, get_threads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
