# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Native core: typed ML-KEM and ML-DSA key classes over liboqs.

Contracts (docs/design.md, "The native core"):

* every liboqs call runs with the GIL released;
* inputs are any C-contiguous buffer, read in place (no copy);
* outputs are ``bytes`` allocated once at their final size and filled by liboqs;
* secret keys live in memory owned by their object, wiped with
  ``OQS_MEM_cleanse`` when it dies, and leave only through ``to_bytes()``;
* bad input raises an exception from ``secretumvault.errors`` naming what was
  expected. liboqs is never handed a buffer of the wrong size.

Only ``secretumvault.pqc.backends.oqs`` imports this module.
"""

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy

import hashlib
import hmac

from secretumvault.errors import (
    InvalidArgument,
    InvalidCiphertext,
    InvalidKey,
    InvalidSignature,
    InvalidType,
    NativeError,
    UnsupportedAlgorithm,
)
from secretumvault.pqc.keys import Encapsulation, KemKeyPair, SigKeyPair


cdef extern from "oqs/oqs.h" nogil:
    ctypedef enum OQS_STATUS:
        OQS_ERROR
        OQS_SUCCESS

    ctypedef struct OQS_KEM:
        const char *method_name
        size_t length_public_key
        size_t length_secret_key
        size_t length_ciphertext
        size_t length_shared_secret
        size_t length_keypair_seed
        size_t length_encaps_seed

    ctypedef struct OQS_SIG:
        const char *method_name
        bint sig_with_ctx_support
        size_t length_public_key
        size_t length_secret_key
        size_t length_signature

    ctypedef enum OQS_CPU_EXT:
        OQS_CPU_EXT_ADX
        OQS_CPU_EXT_AES
        OQS_CPU_EXT_AVX
        OQS_CPU_EXT_AVX2
        OQS_CPU_EXT_AVX512
        OQS_CPU_EXT_BMI1
        OQS_CPU_EXT_BMI2
        OQS_CPU_EXT_PCLMULQDQ
        OQS_CPU_EXT_POPCNT
        OQS_CPU_EXT_SSE2
        OQS_CPU_EXT_ARM_NEON
        OQS_CPU_EXT_ARM_SHA3

    void OQS_init()
    const char *OQS_version()
    int OQS_CPU_has_extension(OQS_CPU_EXT ext)
    void OQS_MEM_cleanse(void *ptr, size_t len)
    void OQS_randombytes(uint8_t *random_array, size_t bytes_to_read)

    OQS_KEM *OQS_KEM_new(const char *method_name)
    void OQS_KEM_free(OQS_KEM *kem)
    OQS_STATUS OQS_KEM_keypair_derand(const OQS_KEM *kem, uint8_t *public_key, uint8_t *secret_key,
                                      const uint8_t *seed)
    OQS_STATUS OQS_KEM_encaps(const OQS_KEM *kem, uint8_t *ciphertext, uint8_t *shared_secret,
                              const uint8_t *public_key)
    OQS_STATUS OQS_KEM_encaps_derand(const OQS_KEM *kem, uint8_t *ciphertext, uint8_t *shared_secret,
                                     const uint8_t *public_key, const uint8_t *seed)
    OQS_STATUS OQS_KEM_decaps(const OQS_KEM *kem, uint8_t *shared_secret, const uint8_t *ciphertext,
                              const uint8_t *secret_key)

    OQS_SIG *OQS_SIG_new(const char *method_name)
    void OQS_SIG_free(OQS_SIG *sig)
    OQS_STATUS OQS_SIG_keypair(const OQS_SIG *sig, uint8_t *public_key, uint8_t *secret_key)
    OQS_STATUS OQS_SIG_sign_with_ctx_str(const OQS_SIG *sig, uint8_t *signature, size_t *signature_len,
                                         const uint8_t *message, size_t message_len,
                                         const uint8_t *ctx_str, size_t ctx_str_len,
                                         const uint8_t *secret_key)
    OQS_STATUS OQS_SIG_verify_with_ctx_str(const OQS_SIG *sig, const uint8_t *message, size_t message_len,
                                           const uint8_t *signature, size_t signature_len,
                                           const uint8_t *ctx_str, size_t ctx_str_len,
                                           const uint8_t *public_key)


cdef extern from "sv_glue.h" nogil:
    int sv_mlkem_ek_is_canonical(const uint8_t *ek, size_t ek_len)
    size_t sv_kem_encaps_batch(const OQS_KEM *kem, size_t n, uint8_t **ciphertexts,
                               uint8_t **shared_secrets, const uint8_t **public_keys,
                               OQS_STATUS *status)
    size_t sv_kem_decaps_batch(const OQS_KEM *kem, size_t n, uint8_t **shared_secrets,
                               const uint8_t **ciphertexts, const uint8_t *secret_key,
                               OQS_STATUS *status)
    size_t sv_sig_verify_batch(const OQS_SIG *sig, size_t n, const uint8_t **messages,
                               const size_t *message_lens, const uint8_t **signatures,
                               const size_t *signature_lens, const uint8_t **contexts,
                               const size_t *context_lens, const uint8_t **public_keys,
                               OQS_STATUS *status)
    double sv_floor_kem(const OQS_KEM *kem, int op, size_t iterations)
    double sv_floor_sig(const OQS_SIG *sig, int op, size_t iterations, size_t message_len)


# Result tuples (Encapsulation, KemKeyPair, SigKeyPair) are namedtuple subclasses of
# tuple. Building them through tuple.__new__ costs an argument tuple and a
# generic call on every encapsulation; allocating the subclass directly, as
# CPython's own tuple_subtype_new does, does not.
cdef extern from *:
    """
    static PyObject *sv_pair(PyObject *type, PyObject *first, PyObject *second) {
        PyObject *pair = ((PyTypeObject *)type)->tp_alloc((PyTypeObject *)type, 2);
        if (pair == NULL) {
            return NULL;
        }
        Py_INCREF(first);
        PyTuple_SET_ITEM(pair, 0, first);
        Py_INCREF(second);
        PyTuple_SET_ITEM(pair, 1, second);
        return pair;
    }
    """
    object sv_pair(object type, object first, object second)


# Build facts, fixed by setup.py at compile time.
cdef extern from *:
    """
    #ifndef SV_LIBOQS_ORIGIN
    #define SV_LIBOQS_ORIGIN "unknown"
    #endif
    """
    const char *SV_LIBOQS_ORIGIN


OQS_init()

# The ML-KEM and ML-DSA names SecretumVault exposes, and liboqs's name for each.
_KEM_LIBOQS_NAMES = {"ML-KEM-512": b"ML-KEM-512", "ML-KEM-768": b"ML-KEM-768", "ML-KEM-1024": b"ML-KEM-1024"}
_SIG_LIBOQS_NAMES = {"ML-DSA-44": b"ML-DSA-44", "ML-DSA-65": b"ML-DSA-65", "ML-DSA-87": b"ML-DSA-87"}
_MAX_CONTEXT = 255
_BACKEND = "oqs"

# Key objects are made only by this module: __cinit__ demands this token, which
# Python code cannot reach, so no half-built key (NULL buffers) can ever exist.
cdef object _CONSTRUCT = object()


# -- buffers ------------------------------------------------------------------------

cdef inline int _acquire(object obj, Py_buffer *view, str what) except -1:
    """Borrow obj's bytes in place; bytes, bytearray and contiguous memoryviews qualify."""
    if isinstance(obj, str):
        raise InvalidType(f"{what} must be bytes-like, not str (encode it first)")
    try:
        PyObject_GetBuffer(obj, view, PyBUF_SIMPLE)
    except (TypeError, BufferError):
        raise InvalidType(
            f"{what} must be a C-contiguous bytes-like object, not {type(obj).__name__}"
        ) from None
    return 0


cdef inline bytes _new_bytes(Py_ssize_t size):
    return PyBytes_FromStringAndSize(NULL, size)


cdef inline uint8_t *_bytes_ptr(bytes b):
    return <uint8_t *>PyBytes_AS_STRING(b)


cdef uint8_t *_secure_copy(const uint8_t *src, size_t length) except NULL:
    cdef uint8_t *dst = <uint8_t *>malloc(length)
    if dst == NULL:
        raise MemoryError()
    memcpy(dst, src, length)
    return dst


cdef inline void _wipe_free(uint8_t **ptr, size_t length) noexcept:
    if ptr[0] != NULL:
        OQS_MEM_cleanse(ptr[0], length)
        free(ptr[0])
        ptr[0] = NULL


cdef bytes _context_bytes(object context):
    """Validate a FIPS 204 context string; returns it as bytes (it is public data)."""
    cdef Py_buffer view
    _acquire(context, &view, "context")
    try:
        if view.len > _MAX_CONTEXT:
            raise InvalidArgument(f"FIPS 204 context strings are at most {_MAX_CONTEXT} bytes, got {view.len}")
        return PyBytes_FromStringAndSize(<char *>view.buf, view.len)
    finally:
        PyBuffer_Release(&view)


# -- ML-KEM -------------------------------------------------------------------------

@cython.final
cdef class KemAlgorithm:
    """One ML-KEM parameter set: the shared liboqs handle and the key factories."""

    cdef OQS_KEM *_kem
    cdef readonly str name
    cdef readonly object params
    cdef readonly Py_ssize_t public_key_size, secret_key_size, ciphertext_size, shared_secret_size
    cdef Py_ssize_t _seed_size, _encaps_seed_size

    _instances = {}

    @staticmethod
    def get(name):
        """The shared handle for ``name``; created once per algorithm."""
        try:
            return KemAlgorithm._instances[name]
        except (KeyError, TypeError):
            pass
        if name not in _KEM_LIBOQS_NAMES:
            raise UnsupportedAlgorithm(
                f"unknown KEM {name!r} for the oqs backend; expected one of {', '.join(_KEM_LIBOQS_NAMES)}"
            )
        alg = KemAlgorithm(name)
        return KemAlgorithm._instances.setdefault(name, alg)

    def __cinit__(self, str name):
        from secretumvault.pqc.params import kem_params

        if name not in _KEM_LIBOQS_NAMES:
            raise UnsupportedAlgorithm(f"unknown KEM {name!r} for the oqs backend")
        self._kem = OQS_KEM_new(_KEM_LIBOQS_NAMES[name])
        if self._kem == NULL:
            raise UnsupportedAlgorithm(f"{name} is not enabled in this liboqs build")
        self.name = name
        self.params = kem_params(name)
        self.public_key_size = self._kem.length_public_key
        self.secret_key_size = self._kem.length_secret_key
        self.ciphertext_size = self._kem.length_ciphertext
        self.shared_secret_size = self._kem.length_shared_secret
        self._seed_size = self._kem.length_keypair_seed
        self._encaps_seed_size = self._kem.length_encaps_seed
        if (self.public_key_size, self.secret_key_size, self.ciphertext_size) != (
            self.params.public_key_size, self.params.secret_key_size, self.params.ciphertext_size
        ):
            raise NativeError(f"liboqs reports sizes for {name} that differ from FIPS 203")

    def __dealloc__(self):
        if self._kem != NULL:
            OQS_KEM_free(self._kem)

    @property
    def backend(self):
        return _BACKEND

    def generate_keypair(self):
        """Fresh keys: a 64-byte seed from liboqs's CSPRNG, then FIPS 203 keygen from it."""
        cdef uint8_t *seed = <uint8_t *>malloc(self._seed_size)
        if seed == NULL:
            raise MemoryError()
        try:
            with nogil:
                OQS_randombytes(seed, self._seed_size)
            return self._keypair_from_seed_ptr(seed)
        finally:
            _wipe_free(&seed, self._seed_size)

    def keypair_from_seed(self, seed):
        """FIPS 203 ML-KEM.KeyGen_internal(d, z) from the 64-byte seed ``d || z``."""
        cdef Py_buffer view
        _acquire(seed, &view, "seed")
        try:
            if view.len != self._seed_size:
                raise InvalidKey(f"{self.name} seeds (d || z) are {self._seed_size} bytes, got {view.len}")
            return self._keypair_from_seed_ptr(<const uint8_t *>view.buf)
        finally:
            PyBuffer_Release(&view)

    cdef object _keypair_from_seed_ptr(self, const uint8_t *seed):
        cdef KemSecretKey sk = KemSecretKey.__new__(KemSecretKey, _CONSTRUCT)
        cdef bytes ek = _new_bytes(self.public_key_size)
        cdef OQS_STATUS rc
        sk._alg = self
        sk._dk = <uint8_t *>malloc(self.secret_key_size)
        sk._seed = <uint8_t *>malloc(self._seed_size)
        if sk._dk == NULL or sk._seed == NULL:
            raise MemoryError()
        memcpy(sk._seed, seed, self._seed_size)
        cdef uint8_t *ek_out = _bytes_ptr(ek)
        with nogil:
            rc = OQS_KEM_keypair_derand(self._kem, ek_out, sk._dk, seed)
        if rc != OQS_SUCCESS:
            raise NativeError(f"liboqs failed to generate an {self.name} key pair")
        return sv_pair(KemKeyPair, _kem_public_key(self, ek), sk)

    def public_key_from_bytes(self, data):
        """Load an encapsulation key after the FIPS 203 length and modulus checks."""
        cdef Py_buffer view
        cdef bint canonical
        _acquire(data, &view, "encapsulation key")
        try:
            if view.len != self.public_key_size:
                raise InvalidKey(f"{self.name} encapsulation keys are {self.public_key_size} bytes, got {view.len}")
            with nogil:
                canonical = sv_mlkem_ek_is_canonical(<const uint8_t *>view.buf, view.len)
            if not canonical:
                raise InvalidKey(
                    f"invalid {self.name} encapsulation key: a coefficient is not reduced modulo q "
                    "(FIPS 203 modulus check)"
                )
            return _kem_public_key(self, PyBytes_FromStringAndSize(<char *>view.buf, view.len))
        finally:
            PyBuffer_Release(&view)

    def secret_key_from_bytes(self, data):
        """Load an expanded decapsulation key after the FIPS 203 length and hash checks."""
        cdef Py_buffer view
        cdef KemSecretKey sk
        cdef Py_ssize_t ek_offset = self.public_key_size - 32   # dk = dk_pke || ek || H(ek) || z
        _acquire(data, &view, "decapsulation key")
        try:
            if view.len != self.secret_key_size:
                raise InvalidKey(f"{self.name} decapsulation keys are {self.secret_key_size} bytes, got {view.len}")
            sk = KemSecretKey.__new__(KemSecretKey, _CONSTRUCT)
            sk._alg = self
            sk._dk = _secure_copy(<const uint8_t *>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        # The embedded ek and its hash are public; comparing them needs no secrecy,
        # but compare_digest costs nothing here.
        ek = PyBytes_FromStringAndSize(<char *>(sk._dk + ek_offset), self.public_key_size)
        stored_hash = PyBytes_FromStringAndSize(<char *>(sk._dk + ek_offset + self.public_key_size), 32)
        if not hmac.compare_digest(hashlib.sha3_256(ek).digest(), stored_hash):
            raise InvalidKey(f"invalid {self.name} decapsulation key: H(ek) does not match (FIPS 203 hash check)")
        if not sv_mlkem_ek_is_canonical(sk._dk + ek_offset, self.public_key_size):
            raise InvalidKey(f"invalid {self.name} decapsulation key: embedded encapsulation key fails the modulus check")
        return sk

    def encapsulate_batch(self, public_keys):
        """Encapsulate once to each public key: one GIL release for the whole batch."""
        keys = list(public_keys)
        cdef Py_ssize_t n = len(keys), i
        cdef KemPublicKey pk
        cdef const uint8_t **pks = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef uint8_t **cts = <uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef uint8_t **sss = <uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef OQS_STATUS *status = <OQS_STATUS *>calloc(n + 1, sizeof(OQS_STATUS))
        cdef size_t failures
        results = []
        try:
            if pks == NULL or cts == NULL or sss == NULL or status == NULL:
                raise MemoryError()
            for i in range(n):
                pk = _own_public_key(keys[i], self)
                ct = _new_bytes(self.ciphertext_size)
                ss = _new_bytes(self.shared_secret_size)
                pks[i] = _bytes_ptr(pk._ek)
                cts[i] = _bytes_ptr(ct)
                sss[i] = _bytes_ptr(ss)
                results.append(sv_pair(Encapsulation, ct, ss))
            with nogil:
                failures = sv_kem_encaps_batch(self._kem, n, cts, sss, pks, status)
            if failures:
                raise NativeError(f"liboqs failed {failures} of {n} {self.name} encapsulations")
            return results
        finally:
            free(pks); free(cts); free(sss); free(status)

    def decapsulate_batch(self, secret_key, ciphertexts):
        """Decapsulate many ciphertexts under one key: one GIL release for the batch."""
        if not isinstance(secret_key, KemSecretKey) or (<KemSecretKey>secret_key)._alg is not self:
            raise InvalidKey(f"expected an {self.name} secret key of the oqs backend")
        cdef KemSecretKey sk = secret_key
        items = list(ciphertexts)
        cdef Py_ssize_t n = len(items), i, acquired = 0
        cdef Py_buffer *views = <Py_buffer *>calloc(n + 1, sizeof(Py_buffer))
        cdef const uint8_t **cts = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef uint8_t **sss = <uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef OQS_STATUS *status = <OQS_STATUS *>calloc(n + 1, sizeof(OQS_STATUS))
        cdef size_t failures
        results = []
        try:
            if views == NULL or cts == NULL or sss == NULL or status == NULL:
                raise MemoryError()
            for i in range(n):
                _acquire(items[i], &views[i], f"ciphertext {i}")
                acquired += 1
                if views[i].len != self.ciphertext_size:
                    raise InvalidCiphertext(
                        f"ciphertext {i}: {self.name} ciphertexts are {self.ciphertext_size} bytes, got {views[i].len}"
                    )
                ss = _new_bytes(self.shared_secret_size)
                cts[i] = <const uint8_t *>views[i].buf
                sss[i] = _bytes_ptr(ss)
                results.append(ss)
            with nogil:
                failures = sv_kem_decaps_batch(self._kem, n, sss, cts, sk._dk, status)
            if failures:
                raise NativeError(f"liboqs failed {failures} of {n} {self.name} decapsulations")
            return results
        finally:
            for i in range(acquired):
                PyBuffer_Release(&views[i])
            free(views); free(cts); free(sss); free(status)

    def c_floor(self, str op, Py_ssize_t iterations):
        """Nanoseconds per call of ``op`` ("keygen", "encaps", "decaps") looped in C."""
        cdef int code = {"keygen": 0, "encaps": 1, "decaps": 2}[op]
        cdef double ns
        with nogil:
            ns = sv_floor_kem(self._kem, code, iterations)
        if ns < 0:
            raise NativeError(f"liboqs failed during the {self.name} {op} floor loop")
        return ns

    def __repr__(self):
        return f"<KemAlgorithm {self.name} backend=oqs>"


cdef KemPublicKey _kem_public_key(KemAlgorithm alg, bytes ek):
    cdef KemPublicKey pk = KemPublicKey.__new__(KemPublicKey, _CONSTRUCT)
    pk._alg = alg
    pk._ek = ek
    return pk


cdef KemPublicKey _own_public_key(object key, KemAlgorithm alg):
    if not isinstance(key, KemPublicKey) or (<KemPublicKey>key)._alg is not alg:
        raise InvalidKey(f"expected an {alg.name} public key of the oqs backend, got {key!r}")
    return <KemPublicKey>key


@cython.final
cdef class KemPublicKey:
    """An ML-KEM encapsulation key. Public: its bytes are kept as ``bytes``."""

    cdef KemAlgorithm _alg
    cdef bytes _ek

    def __cinit__(self, token=None):
        if token is not _CONSTRUCT:
            raise InvalidType("load keys with Kem.public_key_from_bytes()")

    @property
    def algorithm(self):
        return self._alg.name

    @property
    def backend(self):
        return _BACKEND

    def encapsulate(self):
        """A fresh shared secret and its ciphertext (randomness from liboqs's CSPRNG)."""
        cdef KemAlgorithm alg = self._alg
        cdef bytes ct = _new_bytes(alg.ciphertext_size)
        cdef bytes ss = _new_bytes(alg.shared_secret_size)
        cdef OQS_STATUS rc
        cdef uint8_t *ct_out = _bytes_ptr(ct)
        cdef uint8_t *ss_out = _bytes_ptr(ss)
        cdef const uint8_t *ek = _bytes_ptr(self._ek)
        with nogil:
            rc = OQS_KEM_encaps(alg._kem, ct_out, ss_out, ek)
        if rc != OQS_SUCCESS:
            raise NativeError(f"liboqs failed an {alg.name} encapsulation")
        return sv_pair(Encapsulation, ct, ss)

    def encapsulate_derand(self, message):
        """FIPS 203 ML-KEM.Encaps_internal with the 32-byte message ``m`` (test vectors)."""
        cdef KemAlgorithm alg = self._alg
        cdef Py_buffer view
        cdef OQS_STATUS rc = OQS_ERROR
        cdef bytes ct, ss
        cdef uint8_t *ct_out
        cdef uint8_t *ss_out
        cdef const uint8_t *ek = _bytes_ptr(self._ek)
        _acquire(message, &view, "message")
        try:
            if view.len != alg._encaps_seed_size:
                raise InvalidArgument(f"{alg.name} encapsulation messages are {alg._encaps_seed_size} bytes, got {view.len}")
            ct = _new_bytes(alg.ciphertext_size)
            ss = _new_bytes(alg.shared_secret_size)
            ct_out = _bytes_ptr(ct)
            ss_out = _bytes_ptr(ss)
            with nogil:
                rc = OQS_KEM_encaps_derand(alg._kem, ct_out, ss_out, ek, <const uint8_t *>view.buf)
        finally:
            PyBuffer_Release(&view)
        if rc != OQS_SUCCESS:
            raise NativeError(f"liboqs failed an {alg.name} encapsulation")
        return sv_pair(Encapsulation, ct, ss)

    def to_bytes(self):
        return self._ek

    def __bytes__(self):
        return self._ek

    def __eq__(self, other):
        if isinstance(other, KemPublicKey):
            return self._alg is (<KemPublicKey>other)._alg and self._ek == (<KemPublicKey>other)._ek
        if hasattr(other, "algorithm") and hasattr(other, "encapsulate"):
            return self._alg.name == other.algorithm and self._ek == other.to_bytes()
        return NotImplemented

    def __hash__(self):
        return hash((self._alg.name, self._ek))

    def __reduce__(self):
        return (_load_kem_public_key, (self._alg.name, self._ek))

    def __repr__(self):
        return f"<KemPublicKey {self._alg.name} backend=oqs>"


def _load_kem_public_key(name, ek):
    return KemAlgorithm.get(name).public_key_from_bytes(ek)


@cython.final
@cython.auto_pickle(False)
cdef class KemSecretKey:
    """An ML-KEM decapsulation key in memory this object owns and wipes."""

    cdef KemAlgorithm _alg
    cdef uint8_t *_dk      # expanded FIPS 203 decapsulation key
    cdef uint8_t *_seed    # d || z when known (generated or loaded from a seed), else NULL

    def __cinit__(self, token=None):
        if token is not _CONSTRUCT:
            raise InvalidType("load keys with Kem.secret_key_from_bytes() or Kem.keypair_from_seed()")

    def __dealloc__(self):
        if self._alg is not None:
            _wipe_free(&self._dk, self._alg.secret_key_size)
            _wipe_free(&self._seed, self._alg._seed_size)

    @property
    def algorithm(self):
        return self._alg.name

    @property
    def backend(self):
        return _BACKEND

    def decapsulate(self, ciphertext):
        """The shared secret; a tampered ciphertext gives an unrelated one (implicit rejection)."""
        cdef KemAlgorithm alg = self._alg
        cdef Py_buffer view
        cdef OQS_STATUS rc = OQS_ERROR
        cdef bytes ss
        cdef uint8_t *ss_out
        _acquire(ciphertext, &view, "ciphertext")
        try:
            if view.len != alg.ciphertext_size:
                raise InvalidCiphertext(f"{alg.name} ciphertexts are {alg.ciphertext_size} bytes, got {view.len}")
            ss = _new_bytes(alg.shared_secret_size)
            ss_out = _bytes_ptr(ss)
            with nogil:
                rc = OQS_KEM_decaps(alg._kem, ss_out, <const uint8_t *>view.buf, self._dk)
        finally:
            PyBuffer_Release(&view)
        if rc != OQS_SUCCESS:
            raise NativeError(f"liboqs failed an {alg.name} decapsulation")
        return ss

    def public_key(self):
        """The encapsulation key embedded in the decapsulation key."""
        cdef Py_ssize_t offset = self._alg.public_key_size - 32
        return _kem_public_key(self._alg, PyBytes_FromStringAndSize(<char *>(self._dk + offset), self._alg.public_key_size))

    def to_bytes(self):
        """The expanded decapsulation key. The copy is a Python ``bytes``: treat it as secret."""
        return PyBytes_FromStringAndSize(<char *>self._dk, self._alg.secret_key_size)

    def seed_bytes(self):
        """The 64-byte ``d || z`` seed: the compact, portable form of this key."""
        if self._seed == NULL:
            raise UnsupportedAlgorithm(
                "this key was loaded from its expanded encoding, which does not contain the seed; "
                "keep keys from keypair_from_seed()/generate_keypair() to export seeds"
            )
        return PyBytes_FromStringAndSize(<char *>self._seed, self._alg._seed_size)

    def __bytes__(self):
        return self.to_bytes()

    def __reduce_ex__(self, protocol):
        raise InvalidType("secret keys are not picklable; store them through the keystore")

    def __repr__(self):
        return f"<KemSecretKey {self._alg.name} backend=oqs>"


# -- ML-DSA -------------------------------------------------------------------------

@cython.final
cdef class SigAlgorithm:
    """One ML-DSA parameter set: the shared liboqs handle and the key factories."""

    cdef OQS_SIG *_sig
    cdef readonly str name
    cdef readonly object params
    cdef readonly Py_ssize_t public_key_size, secret_key_size, signature_size

    _instances = {}

    @staticmethod
    def get(name):
        """The shared handle for ``name``; created once per algorithm."""
        try:
            return SigAlgorithm._instances[name]
        except (KeyError, TypeError):
            pass
        if name not in _SIG_LIBOQS_NAMES:
            raise UnsupportedAlgorithm(
                f"unknown signature algorithm {name!r} for the oqs backend; "
                f"expected one of {', '.join(_SIG_LIBOQS_NAMES)}"
            )
        alg = SigAlgorithm(name)
        return SigAlgorithm._instances.setdefault(name, alg)

    def __cinit__(self, str name):
        from secretumvault.pqc.params import sig_params

        if name not in _SIG_LIBOQS_NAMES:
            raise UnsupportedAlgorithm(f"unknown signature algorithm {name!r} for the oqs backend")
        self._sig = OQS_SIG_new(_SIG_LIBOQS_NAMES[name])
        if self._sig == NULL:
            raise UnsupportedAlgorithm(f"{name} is not enabled in this liboqs build")
        if not self._sig.sig_with_ctx_support:
            raise NativeError(f"this liboqs build of {name} lacks FIPS 204 context strings")
        self.name = name
        self.params = sig_params(name)
        self.public_key_size = self._sig.length_public_key
        self.secret_key_size = self._sig.length_secret_key
        self.signature_size = self._sig.length_signature
        if (self.public_key_size, self.secret_key_size, self.signature_size) != (
            self.params.public_key_size, self.params.secret_key_size, self.params.signature_size
        ):
            raise NativeError(f"liboqs reports sizes for {name} that differ from FIPS 204")

    def __dealloc__(self):
        if self._sig != NULL:
            OQS_SIG_free(self._sig)

    @property
    def backend(self):
        return _BACKEND

    def generate_keypair(self):
        cdef SigSecretKey sk = SigSecretKey.__new__(SigSecretKey, _CONSTRUCT)
        cdef bytes pk = _new_bytes(self.public_key_size)
        cdef uint8_t *pk_out = _bytes_ptr(pk)
        cdef OQS_STATUS rc
        sk._alg = self
        sk._sk = <uint8_t *>malloc(self.secret_key_size)
        if sk._sk == NULL:
            raise MemoryError()
        with nogil:
            rc = OQS_SIG_keypair(self._sig, pk_out, sk._sk)
        if rc != OQS_SUCCESS:
            raise NativeError(f"liboqs failed to generate an {self.name} key pair")
        return sv_pair(SigKeyPair, _sig_public_key(self, pk), sk)

    def keypair_from_seed(self, seed):
        cdef Py_buffer view
        _acquire(seed, &view, "seed")  # type errors first, as on every other entry point
        PyBuffer_Release(&view)
        raise UnsupportedAlgorithm(
            "liboqs 0.16.0 has no public API for ML-DSA key generation from a seed; "
            "use backend='openssl' for seed-based ML-DSA keys"
        )

    def public_key_from_bytes(self, data):
        cdef Py_buffer view
        _acquire(data, &view, "public key")
        try:
            if view.len != self.public_key_size:
                raise InvalidKey(f"{self.name} public keys are {self.public_key_size} bytes, got {view.len}")
            return _sig_public_key(self, PyBytes_FromStringAndSize(<char *>view.buf, view.len))
        finally:
            PyBuffer_Release(&view)

    def secret_key_from_bytes(self, data):
        cdef Py_buffer view
        cdef SigSecretKey sk
        _acquire(data, &view, "secret key")
        try:
            if view.len != self.secret_key_size:
                raise InvalidKey(f"{self.name} secret keys are {self.secret_key_size} bytes, got {view.len}")
            sk = SigSecretKey.__new__(SigSecretKey, _CONSTRUCT)
            sk._alg = self
            sk._sk = _secure_copy(<const uint8_t *>view.buf, view.len)
            return sk
        finally:
            PyBuffer_Release(&view)

    def verify_batch(self, items):
        """Verify ``(public_key, signature, message, context)`` items in one GIL release.

        Returns a list of booleans. Malformed items (wrong key type, oversized
        context) raise before anything is verified.
        """
        batch = [tuple(item) for item in items]
        cdef Py_ssize_t n = len(batch), i, acquired = 0
        cdef SigPublicKey pk
        cdef Py_buffer *views = <Py_buffer *>calloc(2 * n + 1, sizeof(Py_buffer))
        cdef const uint8_t **msgs = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef const uint8_t **sigs = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef const uint8_t **ctxs = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef const uint8_t **pks = <const uint8_t **>calloc(n + 1, sizeof(uint8_t *))
        cdef size_t *msg_lens = <size_t *>calloc(n + 1, sizeof(size_t))
        cdef size_t *sig_lens = <size_t *>calloc(n + 1, sizeof(size_t))
        cdef size_t *ctx_lens = <size_t *>calloc(n + 1, sizeof(size_t))
        cdef OQS_STATUS *status = <OQS_STATUS *>calloc(n + 1, sizeof(OQS_STATUS))
        contexts = []
        try:
            if (views == NULL or msgs == NULL or sigs == NULL or ctxs == NULL or pks == NULL
                    or msg_lens == NULL or sig_lens == NULL or ctx_lens == NULL or status == NULL):
                raise MemoryError()
            for i in range(n):
                if len(batch[i]) != 4:
                    raise InvalidArgument(f"item {i}: expected (public_key, signature, message, context)")
                key, signature, message, context = batch[i]
                if not isinstance(key, SigPublicKey) or (<SigPublicKey>key)._alg is not self:
                    raise InvalidKey(f"item {i}: expected an {self.name} public key of the oqs backend")
                pk = key
                ctx = _context_bytes(context)
                contexts.append(ctx)
                _acquire(signature, &views[2 * i], f"signature {i}")
                acquired += 1
                _acquire(message, &views[2 * i + 1], f"message {i}")
                acquired += 1
                pks[i] = _bytes_ptr(pk._pk)
                sigs[i] = <const uint8_t *>views[2 * i].buf
                sig_lens[i] = views[2 * i].len
                msgs[i] = <const uint8_t *>views[2 * i + 1].buf
                msg_lens[i] = views[2 * i + 1].len
                ctxs[i] = _bytes_ptr(ctx)
                ctx_lens[i] = len(ctx)
            with nogil:
                sv_sig_verify_batch(self._sig, n, msgs, msg_lens, sigs, sig_lens, ctxs, ctx_lens, pks, status)
            # Wrong-length signatures are rejected by liboqs itself (it checks signature_len).
            return [status[i] == OQS_SUCCESS for i in range(n)]
        finally:
            for i in range(acquired):
                PyBuffer_Release(&views[i])
            free(views); free(msgs); free(sigs); free(ctxs); free(pks)
            free(msg_lens); free(sig_lens); free(ctx_lens); free(status)

    def c_floor(self, str op, Py_ssize_t iterations, Py_ssize_t message_len=32):
        """Nanoseconds per call of ``op`` ("keygen", "sign", "verify") looped in C."""
        cdef int code = {"keygen": 0, "sign": 1, "verify": 2}[op]
        cdef double ns
        with nogil:
            ns = sv_floor_sig(self._sig, code, iterations, message_len)
        if ns < 0:
            raise NativeError(f"liboqs failed during the {self.name} {op} floor loop")
        return ns

    def __repr__(self):
        return f"<SigAlgorithm {self.name} backend=oqs>"


cdef SigPublicKey _sig_public_key(SigAlgorithm alg, bytes pk_bytes):
    cdef SigPublicKey pk = SigPublicKey.__new__(SigPublicKey, _CONSTRUCT)
    pk._alg = alg
    pk._pk = pk_bytes
    return pk


@cython.final
cdef class SigPublicKey:
    """An ML-DSA verification key."""

    cdef SigAlgorithm _alg
    cdef bytes _pk

    def __cinit__(self, token=None):
        if token is not _CONSTRUCT:
            raise InvalidType("load keys with Signature.public_key_from_bytes()")

    @property
    def algorithm(self):
        return self._alg.name

    @property
    def backend(self):
        return _BACKEND

    def verify(self, signature, message, context=b""):
        """Return None if valid; raise InvalidSignature otherwise."""
        cdef SigAlgorithm alg = self._alg
        cdef Py_buffer sig_view, msg_view, ctx_view
        cdef OQS_STATUS rc = OQS_ERROR
        cdef const uint8_t *pk = _bytes_ptr(self._pk)
        _acquire(signature, &sig_view, "signature")
        try:
            _acquire(message, &msg_view, "message")
            try:
                _acquire(context, &ctx_view, "context")
                try:
                    if ctx_view.len > _MAX_CONTEXT:
                        raise InvalidArgument(
                            f"FIPS 204 context strings are at most {_MAX_CONTEXT} bytes, got {ctx_view.len}"
                        )
                    if sig_view.len != alg.signature_size:
                        raise InvalidSignature(
                            f"{alg.name} signatures are {alg.signature_size} bytes, got {sig_view.len}"
                        )
                    with nogil:
                        rc = OQS_SIG_verify_with_ctx_str(
                            alg._sig, <const uint8_t *>msg_view.buf, msg_view.len,
                            <const uint8_t *>sig_view.buf, sig_view.len,
                            <const uint8_t *>ctx_view.buf, ctx_view.len, pk)
                finally:
                    PyBuffer_Release(&ctx_view)
            finally:
                PyBuffer_Release(&msg_view)
        finally:
            PyBuffer_Release(&sig_view)
        if rc != OQS_SUCCESS:
            raise InvalidSignature(f"{alg.name} signature does not verify")

    def to_bytes(self):
        return self._pk

    def __bytes__(self):
        return self._pk

    def __eq__(self, other):
        if isinstance(other, SigPublicKey):
            return self._alg is (<SigPublicKey>other)._alg and self._pk == (<SigPublicKey>other)._pk
        if hasattr(other, "algorithm") and hasattr(other, "verify"):
            return self._alg.name == other.algorithm and self._pk == other.to_bytes()
        return NotImplemented

    def __hash__(self):
        return hash((self._alg.name, self._pk))

    def __reduce__(self):
        return (_load_sig_public_key, (self._alg.name, self._pk))

    def __repr__(self):
        return f"<SigPublicKey {self._alg.name} backend=oqs>"


def _load_sig_public_key(name, pk):
    return SigAlgorithm.get(name).public_key_from_bytes(pk)


@cython.final
@cython.auto_pickle(False)
cdef class SigSecretKey:
    """An ML-DSA signing key in memory this object owns and wipes."""

    cdef SigAlgorithm _alg
    cdef uint8_t *_sk

    def __cinit__(self, token=None):
        if token is not _CONSTRUCT:
            raise InvalidType("load keys with Signature.secret_key_from_bytes()")

    def __dealloc__(self):
        if self._alg is not None:
            _wipe_free(&self._sk, self._alg.secret_key_size)

    @property
    def algorithm(self):
        return self._alg.name

    @property
    def backend(self):
        return _BACKEND

    def sign(self, message, context=b""):
        """A FIPS 204 (hedged, randomized) signature of ``message`` under ``context``."""
        cdef SigAlgorithm alg = self._alg
        cdef Py_buffer msg_view, ctx_view
        cdef OQS_STATUS rc = OQS_ERROR
        cdef size_t sig_len = alg.signature_size
        cdef bytes signature
        cdef uint8_t *sig_out
        _acquire(message, &msg_view, "message")
        try:
            _acquire(context, &ctx_view, "context")
            try:
                if ctx_view.len > _MAX_CONTEXT:
                    raise InvalidArgument(
                        f"FIPS 204 context strings are at most {_MAX_CONTEXT} bytes, got {ctx_view.len}"
                    )
                signature = _new_bytes(alg.signature_size)
                sig_out = _bytes_ptr(signature)
                with nogil:
                    rc = OQS_SIG_sign_with_ctx_str(
                        alg._sig, sig_out, &sig_len,
                        <const uint8_t *>msg_view.buf, msg_view.len,
                        <const uint8_t *>ctx_view.buf, ctx_view.len, self._sk)
            finally:
                PyBuffer_Release(&ctx_view)
        finally:
            PyBuffer_Release(&msg_view)
        if rc != OQS_SUCCESS or sig_len != <size_t>alg.signature_size:
            raise NativeError(f"liboqs failed an {alg.name} signature")
        return signature

    def to_bytes(self):
        """The expanded FIPS 204 signing key. The copy is a Python ``bytes``: treat it as secret."""
        return PyBytes_FromStringAndSize(<char *>self._sk, self._alg.secret_key_size)

    def seed_bytes(self):
        raise UnsupportedAlgorithm(
            "liboqs keeps ML-DSA keys in expanded form only; the seed is not available. "
            "Use backend='openssl' for seed-based ML-DSA keys"
        )

    def __bytes__(self):
        return self.to_bytes()

    def __reduce_ex__(self, protocol):
        raise InvalidType("secret keys are not picklable; store them through the keystore")

    def __repr__(self):
        return f"<SigSecretKey {self._alg.name} backend=oqs>"


# -- module facts -------------------------------------------------------------------

def kem_names():
    return list(_ENABLED_KEMS)


def sig_names():
    return list(_ENABLED_SIGS)


cdef bint _kem_enabled(str name):
    cdef OQS_KEM *kem = OQS_KEM_new(_KEM_LIBOQS_NAMES[name])
    if kem == NULL:
        return False
    OQS_KEM_free(kem)
    return True


cdef bint _sig_enabled(str name):
    cdef OQS_SIG *sig = OQS_SIG_new(_SIG_LIBOQS_NAMES[name])
    if sig == NULL:
        return False
    OQS_SIG_free(sig)
    return True


# What this liboqs build enables is fixed at link time: ask once, not on every
# backend lookup (backend="auto" consults these lists for each Kem/Signature).
_ENABLED_KEMS = tuple(name for name in _KEM_LIBOQS_NAMES if _kem_enabled(name))
_ENABLED_SIGS = tuple(name for name in _SIG_LIBOQS_NAMES if _sig_enabled(name))


_CPU_FEATURES = {
    "adx": OQS_CPU_EXT_ADX, "aes": OQS_CPU_EXT_AES, "avx": OQS_CPU_EXT_AVX, "avx2": OQS_CPU_EXT_AVX2,
    "avx512": OQS_CPU_EXT_AVX512, "bmi1": OQS_CPU_EXT_BMI1, "bmi2": OQS_CPU_EXT_BMI2,
    "pclmulqdq": OQS_CPU_EXT_PCLMULQDQ, "popcnt": OQS_CPU_EXT_POPCNT, "sse2": OQS_CPU_EXT_SSE2,
    "neon": OQS_CPU_EXT_ARM_NEON, "sha3": OQS_CPU_EXT_ARM_SHA3,
}


def build_info():
    """liboqs version, whether it was vendored or installed, and the CPU features it can dispatch to."""
    return {
        "liboqs_version": OQS_version().decode(),
        "liboqs_origin": SV_LIBOQS_ORIGIN.decode(),
        "cpu_features": [name for name, ext in _CPU_FEATURES.items() if OQS_CPU_has_extension(ext)],
        "kem_algorithms": kem_names(),
        "sig_algorithms": sig_names(),
    }
