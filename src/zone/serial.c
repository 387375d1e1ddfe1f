/* serial.c -- RFC 1982 serial number comparison for SOA serials (see zone.h). */
#include "meridian/zone.h"

int zone_serial_compare(uint32_t a, uint32_t b)
{
	if (a == b)
		return 0;
	uint32_t forward = b - a; /* how far b is ahead of a, modulo 2^32 */
	if (forward == UINT32_C(0x80000000))
		return ZONE_SERIAL_UNDEFINED;
	return forward < UINT32_C(0x80000000) ? -1 : 1;
}
