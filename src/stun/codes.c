/*
 * codes — the numbers of STUN and their names: error texts of this codec,
 * attribute, method and class names, ERROR-CODE reasons, and the mapping
 * between message types and method and class (see stun.h).
 */
#include "stun/stun.h"

#include <stddef.h>

static const char *const err_text[] = {
	[0]			= "success",
	[-STUN_E_TRUNCATED]	= "message shorter than its header",
	[-STUN_E_NOT_STUN]	= "top two bits of the message type are not zero",
	[-STUN_E_COOKIE]	= "wrong magic cookie",
	[-STUN_E_LEN_ALIGN]	= "message length is not a multiple of 4",
	[-STUN_E_LEN_MISMATCH]	= "message length does not match the bytes received",
	[-STUN_E_ATTR_OVERRUN]	= "attribute runs past the end of the message",
	[-STUN_E_TOO_MANY]	= "too many attributes",
	[-STUN_E_MI_LEN]	= "MESSAGE-INTEGRITY is not 20 bytes",
	[-STUN_E_MI256_LEN]	= "MESSAGE-INTEGRITY-SHA256 has a bad length",
	[-STUN_E_FP_LEN]	= "FINGERPRINT is not 4 bytes",
	[-STUN_E_NOT_FOUND]	= "attribute not present",
	[-STUN_E_ATTR_LEN]	= "attribute value has a bad length",
	[-STUN_E_FAMILY]	= "unknown address family",
	[-STUN_E_TOO_LONG]	= "attribute text is too long",
	[-STUN_E_BAD_VALUE]	= "attribute value out of range",
	[-STUN_E_INTEGRITY]	= "message integrity check failed",
	[-STUN_E_FINGERPRINT]	= "fingerprint check failed",
	[-STUN_E_CHANNEL]	= "channel number outside 0x4000-0x7FFF",
	[-STUN_E_CRYPTO]	= "cryptographic library failure",
	[-STUN_E_ARG]		= "invalid argument",
};

const char *stun_strerror(int err)
{
	if (err > 0 || err <= -(int)(sizeof(err_text) / sizeof(err_text[0])) ||
	    !err_text[-err])
		return "unknown error";
	return err_text[-err];
}

struct name {
	uint16_t code;
	const char *name;
};

/* Every attribute this codec knows; stun_attr_known() reads it, so an
 * entry here is a promise that the server understands the attribute. */
static const struct name attr_names[] = {
	{ STUN_ATTR_MAPPED_ADDRESS,		"MAPPED-ADDRESS" },
	{ STUN_ATTR_USERNAME,			"USERNAME" },
	{ STUN_ATTR_MESSAGE_INTEGRITY,		"MESSAGE-INTEGRITY" },
	{ STUN_ATTR_ERROR_CODE,			"ERROR-CODE" },
	{ STUN_ATTR_UNKNOWN_ATTRIBUTES,		"UNKNOWN-ATTRIBUTES" },
	{ STUN_ATTR_CHANNEL_NUMBER,		"CHANNEL-NUMBER" },
	{ STUN_ATTR_LIFETIME,			"LIFETIME" },
	{ STUN_ATTR_XOR_PEER_ADDRESS,		"XOR-PEER-ADDRESS" },
	{ STUN_ATTR_DATA,			"DATA" },
	{ STUN_ATTR_REALM,			"REALM" },
	{ STUN_ATTR_NONCE,			"NONCE" },
	{ STUN_ATTR_XOR_RELAYED_ADDRESS,	"XOR-RELAYED-ADDRESS" },
	{ STUN_ATTR_REQUESTED_ADDRESS_FAMILY,	"REQUESTED-ADDRESS-FAMILY" },
	{ STUN_ATTR_EVEN_PORT,			"EVEN-PORT" },
	{ STUN_ATTR_REQUESTED_TRANSPORT,	"REQUESTED-TRANSPORT" },
	{ STUN_ATTR_DONT_FRAGMENT,		"DONT-FRAGMENT" },
	{ STUN_ATTR_MESSAGE_INTEGRITY_SHA256,	"MESSAGE-INTEGRITY-SHA256" },
	{ STUN_ATTR_PASSWORD_ALGORITHM,		"PASSWORD-ALGORITHM" },
	{ STUN_ATTR_USERHASH,			"USERHASH" },
	{ STUN_ATTR_XOR_MAPPED_ADDRESS,		"XOR-MAPPED-ADDRESS" },
	{ STUN_ATTR_RESERVATION_TOKEN,		"RESERVATION-TOKEN" },
	{ STUN_ATTR_PRIORITY,			"PRIORITY" },
	{ STUN_ATTR_USE_CANDIDATE,		"USE-CANDIDATE" },
	{ STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY,	"ADDITIONAL-ADDRESS-FAMILY" },
	{ STUN_ATTR_ADDRESS_ERROR_CODE,		"ADDRESS-ERROR-CODE" },
	{ STUN_ATTR_PASSWORD_ALGORITHMS,	"PASSWORD-ALGORITHMS" },
	{ STUN_ATTR_ALTERNATE_DOMAIN,		"ALTERNATE-DOMAIN" },
	{ STUN_ATTR_ICMP,			"ICMP" },
	{ STUN_ATTR_SOFTWARE,			"SOFTWARE" },
	{ STUN_ATTR_ALTERNATE_SERVER,		"ALTERNATE-SERVER" },
	{ STUN_ATTR_FINGERPRINT,		"FINGERPRINT" },
	{ STUN_ATTR_ICE_CONTROLLED,		"ICE-CONTROLLED" },
	{ STUN_ATTR_ICE_CONTROLLING,		"ICE-CONTROLLING" },
};

static const struct name method_names[] = {
	{ STUN_METHOD_BINDING,			"Binding" },
	{ STUN_METHOD_ALLOCATE,			"Allocate" },
	{ STUN_METHOD_REFRESH,			"Refresh" },
	{ STUN_METHOD_SEND,			"Send" },
	{ STUN_METHOD_DATA,			"Data" },
	{ STUN_METHOD_CREATE_PERMISSION,	"CreatePermission" },
	{ STUN_METHOD_CHANNEL_BIND,		"ChannelBind" },
};

static const struct name error_reasons[] = {
	{ 300, "Try Alternate" },
	{ 400, "Bad Request" },
	{ 401, "Unauthenticated" },
	{ 403, "Forbidden" },
	{ 420, "Unknown Attribute" },
	{ 437, "Allocation Mismatch" },
	{ 438, "Stale Nonce" },
	{ 440, "Address Family not Supported" },
	{ 441, "Wrong Credentials" },
	{ 442, "Unsupported Transport Protocol" },
	{ 443, "Peer Address Family Mismatch" },
	{ 446, "Connection Already Exists" },
	{ 447, "Connection Timeout or Failure" },
	{ 486, "Allocation Quota Reached" },
	{ 487, "Role Conflict" },
	{ 500, "Server Error" },
	{ 508, "Insufficient Capacity" },
};

static const char *lookup(const struct name *t, size_t n, unsigned code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return t[i].name;
	return NULL;
}

#define LOOKUP(t, code) lookup((t), sizeof(t) / sizeof((t)[0]), (code))

bool stun_attr_known(uint16_t type)
{
	return LOOKUP(attr_names, type) != NULL;
}

const char *stun_attr_name(uint16_t type)
{
	const char *s = LOOKUP(attr_names, type);

	return s ? s : "unknown";
}

const char *stun_method_name(uint16_t method)
{
	const char *s = LOOKUP(method_names, method);

	return s ? s : "unknown";
}

const char *stun_class_name(enum stun_class cls)
{
	switch (cls) {
	case STUN_CLASS_REQUEST:	return "request";
	case STUN_CLASS_INDICATION:	return "indication";
	case STUN_CLASS_SUCCESS:	return "success response";
	case STUN_CLASS_ERROR:		return "error response";
	}
	return "unknown";
}

const char *stun_error_reason(int code)
{
	if (code < 0 || code > 0xFFFF)
		return NULL;
	return LOOKUP(error_reasons, (unsigned)code);
}

/* ---------------------------------------------------------- type codes */

uint16_t stun_type(uint16_t method, enum stun_class cls)
{
	unsigned m = method, c = (unsigned)cls;

	return (uint16_t)((m & 0x000F) | (m & 0x0070) << 1 | (m & 0x0F80) << 2 |
			  (c & 1) << 4 | (c & 2) << 7);
}

uint16_t stun_type_method(uint16_t type)
{
	return (uint16_t)((type & 0x000F) | (type & 0x00E0) >> 1 |
			  (type & 0x3E00) >> 2);
}

enum stun_class stun_type_class(uint16_t type)
{
	return (enum stun_class)((type >> 4 & 1) | (type >> 7 & 2));
}
