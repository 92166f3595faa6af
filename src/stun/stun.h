/*
 * stun — a pure codec for STUN (RFC 8489) and the TURN additions of
 * RFC 8656: bytes in, struct out, and back.
 *
 * Nothing here opens a socket, allocates memory or keeps state between
 * calls; the only dependency is OpenSSL's libcrypto for HMAC and digests.
 * Every function is safe to call from any thread.
 *
 * Parsing does not copy: a parsed struct stun_msg points into the caller's
 * buffer, which must outlive it and must not change while it is used.
 * Building writes into a caller buffer and never writes past its end.
 *
 * Functions returning int give 0 on success and a negative enum stun_err
 * value on failure unless their comment says otherwise.
 */
#ifndef FERRY_STUN_H
#define FERRY_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HEADER_LEN		20
#define STUN_MAGIC_COOKIE	0x2112A442u
#define STUN_TID_LEN		12
/* Attributes a parsed message may carry; more is STUN_E_TOO_MANY. */
#define STUN_MAX_ATTRS		64
/* Largest possible message: the length field is 16 bits. */
#define STUN_MAX_MSG_LEN	(STUN_HEADER_LEN + 65535)

#define STUN_MI_LEN		20	/* HMAC-SHA1 */
#define STUN_MI256_LEN		32	/* HMAC-SHA256, as we send it */
#define STUN_MI256_MIN_LEN	16	/* shortest truncation accepted */
#define STUN_FP_LEN		4
#define STUN_FP_XOR		0x5354554Eu

#define STUN_MD5_LEN		16
#define STUN_SHA256_LEN		32

/* ChannelData (RFC 8656 §12.4): a 4-byte header, then the data.
 * RFC 8656 gives channels 0x4000-0x4FFF, but RFC 5766 allowed up to
 * 0x7FFF and clients written to it (coturn's own among them) still pick
 * numbers there; every number whose first two bits are 01 is accepted so
 * that they keep working. */
#define STUN_CHANDATA_HDR_LEN	4
#define STUN_CHANNEL_MIN	0x4000
#define STUN_CHANNEL_MAX	0x7FFF

enum stun_class {
	STUN_CLASS_REQUEST	= 0,
	STUN_CLASS_INDICATION	= 1,
	STUN_CLASS_SUCCESS	= 2,
	STUN_CLASS_ERROR	= 3,
};

enum stun_method {
	STUN_METHOD_BINDING		= 0x001,
	STUN_METHOD_ALLOCATE		= 0x003,
	STUN_METHOD_REFRESH		= 0x004,
	STUN_METHOD_SEND		= 0x006,
	STUN_METHOD_DATA		= 0x007,
	STUN_METHOD_CREATE_PERMISSION	= 0x008,
	STUN_METHOD_CHANNEL_BIND	= 0x009,
};

enum stun_attr_type {
	/* RFC 8489, comprehension-required */
	STUN_ATTR_MAPPED_ADDRESS		= 0x0001,
	STUN_ATTR_USERNAME			= 0x0006,
	STUN_ATTR_MESSAGE_INTEGRITY		= 0x0008,
	STUN_ATTR_ERROR_CODE			= 0x0009,
	STUN_ATTR_UNKNOWN_ATTRIBUTES		= 0x000A,
	STUN_ATTR_REALM				= 0x0014,
	STUN_ATTR_NONCE				= 0x0015,
	STUN_ATTR_MESSAGE_INTEGRITY_SHA256	= 0x001C,
	STUN_ATTR_PASSWORD_ALGORITHM		= 0x001D,
	STUN_ATTR_USERHASH			= 0x001E,
	STUN_ATTR_XOR_MAPPED_ADDRESS		= 0x0020,
	/* RFC 8656, comprehension-required */
	STUN_ATTR_CHANNEL_NUMBER		= 0x000C,
	STUN_ATTR_LIFETIME			= 0x000D,
	STUN_ATTR_XOR_PEER_ADDRESS		= 0x0012,
	STUN_ATTR_DATA				= 0x0013,
	STUN_ATTR_XOR_RELAYED_ADDRESS		= 0x0016,
	STUN_ATTR_REQUESTED_ADDRESS_FAMILY	= 0x0017,
	STUN_ATTR_EVEN_PORT			= 0x0018,
	STUN_ATTR_REQUESTED_TRANSPORT		= 0x0019,
	STUN_ATTR_DONT_FRAGMENT			= 0x001A,
	STUN_ATTR_RESERVATION_TOKEN		= 0x0022,
	/* RFC 8445 (ICE) */
	STUN_ATTR_PRIORITY			= 0x0024,
	STUN_ATTR_USE_CANDIDATE			= 0x0025,
	/* RFC 8656, comprehension-optional */
	STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY	= 0x8000,
	STUN_ATTR_ADDRESS_ERROR_CODE		= 0x8001,
	STUN_ATTR_ICMP				= 0x8004,
	/* RFC 8489, comprehension-optional */
	STUN_ATTR_PASSWORD_ALGORITHMS		= 0x8002,
	STUN_ATTR_ALTERNATE_DOMAIN		= 0x8003,
	STUN_ATTR_SOFTWARE			= 0x8022,
	STUN_ATTR_ALTERNATE_SERVER		= 0x8023,
	STUN_ATTR_FINGERPRINT			= 0x8028,
	/* RFC 8445 (ICE), comprehension-optional */
	STUN_ATTR_ICE_CONTROLLED		= 0x8029,
	STUN_ATTR_ICE_CONTROLLING		= 0x802A,
};

/* REQUESTED-TRANSPORT protocol numbers and address family codes. */
#define STUN_TRANSPORT_UDP	17
#define STUN_TRANSPORT_TCP	6
#define STUN_FAMILY_IPV4	0x01
#define STUN_FAMILY_IPV6	0x02

/* PASSWORD-ALGORITHM numbers (RFC 8489 §18.5). */
#define STUN_PASSWORD_ALG_MD5		0x0001
#define STUN_PASSWORD_ALG_SHA256	0x0002

/* Stable error codes; stun_strerror() gives a sentence for each. */
enum stun_err {
	STUN_OK			= 0,
	STUN_E_TRUNCATED	= -1,	/* fewer than 20 bytes */
	STUN_E_NOT_STUN		= -2,	/* top two bits of the type set */
	STUN_E_COOKIE		= -3,	/* magic cookie is not 0x2112A442 */
	STUN_E_LEN_ALIGN	= -4,	/* header length not a multiple of 4 */
	STUN_E_LEN_MISMATCH	= -5,	/* header length != bytes after header */
	STUN_E_ATTR_OVERRUN	= -6,	/* attribute runs past the message */
	STUN_E_TOO_MANY		= -7,	/* more than STUN_MAX_ATTRS */
	STUN_E_MI_LEN		= -8,	/* MESSAGE-INTEGRITY not 20 bytes */
	STUN_E_MI256_LEN	= -9,	/* MESSAGE-INTEGRITY-SHA256 bad size */
	STUN_E_FP_LEN		= -10,	/* FINGERPRINT not 4 bytes */
	STUN_E_NOT_FOUND	= -11,	/* attribute absent */
	STUN_E_ATTR_LEN		= -12,	/* attribute value has a bad length */
	STUN_E_FAMILY		= -13,	/* unknown address family */
	STUN_E_TOO_LONG		= -14,	/* string over its RFC limit */
	STUN_E_BAD_VALUE	= -15,	/* value out of its range */
	STUN_E_INTEGRITY	= -16,	/* HMAC does not match */
	STUN_E_FINGERPRINT	= -17,	/* CRC does not match */
	STUN_E_CHANNEL		= -18,	/* not a ChannelData channel number */
	STUN_E_CRYPTO		= -19,	/* libcrypto failed */
	STUN_E_ARG		= -20,	/* bad argument from the caller */
};

/* Never NULL; an unknown code gives "unknown error". */
const char *stun_strerror(int err);

/* ---------------------------------------------------------- type codes */

/* Message type <-> method and class (RFC 8489 §5: the class bits sit at
 * bits 4 and 8, interleaved with the 12 method bits). Methods above 0xFFF
 * do not fit; their bits above 12 are dropped. */
uint16_t stun_type(uint16_t method, enum stun_class cls);
uint16_t stun_type_method(uint16_t type);
enum stun_class stun_type_class(uint16_t type);

/* 0x0000-0x7FFF must be understood by the receiver (RFC 8489 §14). */
static inline bool stun_attr_comprehension_required(uint16_t type)
{
	return type < 0x8000;
}

/* true for every attribute listed in enum stun_attr_type. A server answers
 * a request carrying an unknown comprehension-required attribute with 420
 * and UNKNOWN-ATTRIBUTES (see stun_unknown_required()). */
bool stun_attr_known(uint16_t type);

/* Names for logs: "XOR-MAPPED-ADDRESS", "Allocate", "success response".
 * Never NULL; unknown values give "unknown". */
const char *stun_attr_name(uint16_t type);
const char *stun_method_name(uint16_t method);
const char *stun_class_name(enum stun_class cls);

/* The RFC's reason phrase for an ERROR-CODE (RFC 8489 §14.8, RFC 8656
 * §19, RFC 6062 for 446/447, RFC 8445 for 487), or NULL when the code is
 * not in the table. */
const char *stun_error_reason(int code);

/* -------------------------------------------------------------- parse */

struct stun_attr {
	uint16_t type;
	uint16_t len;		/* value length, without padding */
	uint32_t offset;	/* of the attribute header, from message start */
	const uint8_t *value;	/* into the parsed buffer; len bytes */
};

struct stun_msg {
	const uint8_t *buf;	/* the caller's bytes; not owned */
	size_t len;		/* STUN_HEADER_LEN + header length */
	uint16_t type;
	uint16_t method;
	enum stun_class cls;
	uint8_t tid[STUN_TID_LEN];
	size_t nattrs;
	/* In message order, without those RFC 8489 §14.5-14.7 says to ignore
	 * (anything after MESSAGE-INTEGRITY(-SHA256) except a later
	 * MESSAGE-INTEGRITY-SHA256 or FINGERPRINT; anything after
	 * FINGERPRINT). */
	struct stun_attr attrs[STUN_MAX_ATTRS];
	/* Offsets of the attribute headers, -1 when absent. */
	int mi_off;
	int mi256_off;
	int fp_off;
};

/* Parse and validate one message of exactly len bytes (a UDP datagram or
 * a frame cut by stun_frame_len()). On failure *out is unspecified.
 * Checks: len >= 20, top two bits zero, magic cookie, header length a
 * multiple of 4 and equal to len - 20, every attribute (and its padding)
 * inside the message, at most STUN_MAX_ATTRS recorded attributes, and the
 * sizes of MESSAGE-INTEGRITY (20), MESSAGE-INTEGRITY-SHA256 (16..32, a
 * multiple of 4) and FINGERPRINT (4). It does not check integrity or
 * fingerprint: see stun_check_*(). */
int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *out);

/* Cheap test for demultiplexing: could buf start a STUN message?
 * (>= 20 bytes, top bits zero, magic cookie, length multiple of 4.) */
bool stun_is_stun(const uint8_t *buf, size_t len);

/* ------------------------------------------------------------- lookup */

/* First recorded attribute of a type, or NULL. stun_find_next() returns
 * the next one after prev (which must point into m->attrs), or NULL;
 * XOR-PEER-ADDRESS may repeat in CreatePermission. */
const struct stun_attr *stun_find(const struct stun_msg *m, uint16_t type);
const struct stun_attr *stun_find_next(const struct stun_msg *m,
				       const struct stun_attr *prev);

/* Typed decoders for one attribute. Errors: STUN_E_ATTR_LEN for a bad
 * length, STUN_E_FAMILY for an unknown family. */
int stun_attr_u32(const struct stun_attr *a, uint32_t *out);
int stun_attr_u64(const struct stun_attr *a, uint64_t *out);
/* A 16-bit value followed by 16 reserved bits (CHANNEL-NUMBER). */
int stun_attr_u16(const struct stun_attr *a, uint16_t *out);
/* An 8-bit value followed by 24 reserved bits (REQUESTED-TRANSPORT,
 * REQUESTED-ADDRESS-FAMILY, ADDITIONAL-ADDRESS-FAMILY). */
int stun_attr_u8(const struct stun_attr *a, uint8_t *out);
/* MAPPED-ADDRESS layout into a sockaddr_in or sockaddr_in6 (the rest of
 * *out zeroed). */
int stun_attr_addr(const struct stun_attr *a, struct sockaddr_storage *out);
/* XOR-*-ADDRESS: the same after undoing the XOR with the magic cookie
 * and, for IPv6, the transaction id. */
int stun_attr_xor_addr(const struct stun_attr *a,
		       const uint8_t tid[STUN_TID_LEN],
		       struct sockaddr_storage *out);
/* ERROR-CODE: *code is class*100 + number (300..699, else
 * STUN_E_BAD_VALUE); *reason points into the message, *reason_len bytes,
 * not NUL-terminated. Reason longer than 763 bytes or 127 characters is
 * STUN_E_TOO_LONG. */
int stun_attr_error(const struct stun_attr *a, int *code,
		    const char **reason, size_t *reason_len);
/* UNKNOWN-ATTRIBUTES: copies up to max types into types and sets *n to
 * the count in the attribute (which may exceed max). Odd lengths are
 * STUN_E_ATTR_LEN. */
int stun_attr_unknown(const struct stun_attr *a, uint16_t *types,
		      size_t max, size_t *n);
/* A text attribute, checked against its RFC 8489 limit:
 * USERNAME <= 763 bytes (§14.3: what a receiver must accept);
 * REALM, NONCE, SOFTWARE <= 763 bytes and < 128 characters;
 * ALTERNATE-DOMAIN <= 255 bytes; other types unchecked.
 * *s points into the message and is not NUL-terminated. */
int stun_attr_string(const struct stun_attr *a, const char **s,
		     size_t *len);

/* The same, looking up the first attribute of a type in m; absent is
 * STUN_E_NOT_FOUND. */
int stun_get_u32(const struct stun_msg *m, uint16_t type, uint32_t *out);
int stun_get_u64(const struct stun_msg *m, uint16_t type, uint64_t *out);
int stun_get_u16(const struct stun_msg *m, uint16_t type, uint16_t *out);
int stun_get_u8(const struct stun_msg *m, uint16_t type, uint8_t *out);
int stun_get_addr(const struct stun_msg *m, uint16_t type,
		  struct sockaddr_storage *out);
int stun_get_xor_addr(const struct stun_msg *m, uint16_t type,
		      struct sockaddr_storage *out);
int stun_get_error(const struct stun_msg *m, int *code,
		   const char **reason, size_t *reason_len);
int stun_get_string(const struct stun_msg *m, uint16_t type,
		    const char **s, size_t *len);

/* Collects, in message order, the comprehension-required attribute types
 * this codec does not know, for a 420 answer. Writes at most max; returns
 * how many there are (0: the request is understood). */
size_t stun_unknown_required(const struct stun_msg *m, uint16_t *types,
			     size_t max);

/* ------------------------------------------------------------- verify */

/* Check MESSAGE-INTEGRITY (HMAC-SHA1) or MESSAGE-INTEGRITY-SHA256
 * (HMAC-SHA256, compared over the attribute's own length, 16..32 bytes)
 * with key: the password for short-term credentials, or the result of
 * stun_key_md5()/stun_key_sha256() for long-term ones. 0 when it matches,
 * STUN_E_NOT_FOUND when the attribute is absent, STUN_E_INTEGRITY when it
 * does not match. The comparison takes constant time. */
int stun_check_integrity(const struct stun_msg *m, const void *key,
			 size_t keylen);
int stun_check_integrity_sha256(const struct stun_msg *m, const void *key,
				size_t keylen);
/* 0 when FINGERPRINT matches, STUN_E_NOT_FOUND, STUN_E_FINGERPRINT. */
int stun_check_fingerprint(const struct stun_msg *m);

/* ---------------------------------------------------- key derivation */

/* Long-term credential keys (RFC 8489 §9.2.2):
 *   MD5(username ":" realm ":" password)   into out[STUN_MD5_LEN]
 *   SHA-256(the same)                      into out[STUN_SHA256_LEN]
 * and USERHASH (§14.4): SHA-256(username ":" realm). The strings are used
 * as given (already OpaqueString-prepared); lengths are in bytes. */
int stun_key_md5(const char *user, size_t ulen, const char *realm,
		 size_t rlen, const char *pass, size_t plen,
		 uint8_t out[STUN_MD5_LEN]);
int stun_key_sha256(const char *user, size_t ulen, const char *realm,
		    size_t rlen, const char *pass, size_t plen,
		    uint8_t out[STUN_SHA256_LEN]);
int stun_userhash(const char *user, size_t ulen, const char *realm,
		  size_t rlen, uint8_t out[STUN_SHA256_LEN]);

/* The STUN CRC-32 (ISO-HDLC, as in zlib), without the FINGERPRINT XOR. */
uint32_t stun_crc32(const void *buf, size_t len);

/* ------------------------------------------------------------ builder */

/* Builds a message into the caller's buffer; no allocation. After every
 * successful call buf[0..len) is a complete message with its header
 * length up to date. Every stun_build_* returns 0, or -1 when the buffer
 * is too small or an argument is invalid; a failed call leaves the
 * message as it was, so the caller may stop there or fall back. */
struct stun_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
};

int stun_build_init(struct stun_builder *b, uint8_t *buf, size_t cap,
		    uint16_t type, const uint8_t tid[STUN_TID_LEN]);
/* An attribute of len bytes (len < 65536), padded with zeros. val may be
 * NULL when len is 0, and must not point into the builder's buffer. */
int stun_build_attr(struct stun_builder *b, uint16_t type, const void *val,
		    size_t len);
/* The same with a chosen padding byte. RFC 8489 lets senders pad with
 * anything; RFC 5769's vectors pad with 0x20, which tests reproduce. */
int stun_build_attr_pad(struct stun_builder *b, uint16_t type,
			const void *val, size_t len, uint8_t pad);
/* Numbers, in the layouts of the matching stun_attr_*() decoders (u64
 * is 8 bytes; u32, u16 and u8 take 4 with reserved bits zeroed). */
int stun_build_u32(struct stun_builder *b, uint16_t type, uint32_t v);
int stun_build_u64(struct stun_builder *b, uint16_t type, uint64_t v);
int stun_build_u16(struct stun_builder *b, uint16_t type, uint16_t v);
int stun_build_u8(struct stun_builder *b, uint16_t type, uint8_t v);
/* sa is AF_INET or AF_INET6 (else -1). */
int stun_build_addr(struct stun_builder *b, uint16_t type,
		    const struct sockaddr *sa);
/* The XOR uses the transaction id already in the header. */
int stun_build_xor_addr(struct stun_builder *b, uint16_t type,
			const struct sockaddr *sa);
/* code 300..699; reason NULL takes stun_error_reason(code), or "" when
 * the table has none. */
int stun_build_error(struct stun_builder *b, int code, const char *reason);
int stun_build_unknown(struct stun_builder *b, const uint16_t *types,
		       size_t n);
/* Append MESSAGE-INTEGRITY / MESSAGE-INTEGRITY-SHA256 (32 bytes) /
 * FINGERPRINT, computed over everything before them with the header
 * length counting the new attribute (RFC 8489 §14.5-14.7). Add them last
 * and in that order. */
int stun_build_integrity(struct stun_builder *b, const void *key,
			 size_t keylen);
int stun_build_integrity_sha256(struct stun_builder *b, const void *key,
				size_t keylen);
int stun_build_fingerprint(struct stun_builder *b);

/* ---------------------------------------------------- stream framing */

/* Over TCP/TLS, the size of the next frame at buf: a STUN message
 * (20 + header length) or a ChannelData message (4 + length rounded up to
 * 4, RFC 8656 §12.5). Returns 0 when avail is too short to tell (a STUN
 * message needs 8 bytes for its cookie, ChannelData 4), and -1 when the
 * bytes are neither, or when the frame would exceed max bytes: the stream
 * is then beyond repair and should be closed. */
int stun_frame_len(const uint8_t *buf, size_t avail, size_t max);

/* --------------------------------------------------------- ChannelData */

struct stun_chandata {
	uint16_t channel;
	uint16_t len;		/* of data */
	const uint8_t *data;	/* into the caller's buffer */
};

/* Parse a ChannelData message of len bytes. The length field may be
 * shorter than what follows (padding, or UDP trailing bytes), never
 * longer. Errors: STUN_E_TRUNCATED (under 4 bytes, or fewer data bytes
 * than the length field says), STUN_E_CHANNEL (not 0x4000-0x7FFF). */
int stun_chandata_parse(const uint8_t *buf, size_t len,
			struct stun_chandata *out);
/* Write the 4-byte header; -1 when channel is outside 0x4000-0x7FFF. The
 * caller places the data after it (and over TCP pads it to 4). */
int stun_chandata_header(uint8_t out[STUN_CHANDATA_HDR_LEN],
			 uint16_t channel, uint16_t len);

/* -------------------------------------------------- Data indication */

/* The most stun_data_indication_header() writes: 20 + 24 + 4 (IPv6). */
#define STUN_DATA_IND_HDR_MAX	48

/* What comes before the data of a Data indication (RFC 8656 §11.4),
 * for a relay that frames peer datagrams in place: the STUN header
 * (transaction id tid), XOR-PEER-ADDRESS peer, and the header of a DATA
 * attribute of datalen bytes, the message length counting the data and
 * its padding.  The caller puts the data right after what was written and
 * pads it with zeros to a multiple of 4.  out has room for cap bytes,
 * at least STUN_DATA_IND_HDR_MAX.  Returns the bytes written, 36 for an
 * IPv4 peer and 48 for IPv6; -1 when cap is too small, peer is neither,
 * or the message would not fit its 16-bit length.  No allocation. */
int stun_data_indication_header(uint8_t *out, size_t cap,
				const uint8_t tid[STUN_TID_LEN],
				const struct sockaddr *peer, size_t datalen);

#endif
