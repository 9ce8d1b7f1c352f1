/*
 * A peer for copylab's NVMe Copy layouts: fills source range descriptors (formats 0 and 1) with
 * libnvme's own helpers and structures, builds a Copy command with nvme_copy(), captures the
 * command libnvme hands to ioctl() (interposed below, no device needed) and prints everything
 * as JSON lines for the test to decode with the model.
 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdarg.h>
#include <libnvme.h>

static unsigned char captured[4096];
static struct nvme_passthru_cmd cmd_seen;
static int seen;

/* Interposes libc's ioctl(): libnvme's nvme_copy() ends here with the command it built. */
int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	(void)fd;
	if (req == NVME_IOCTL_IO_CMD || req == NVME_IOCTL_IO64_CMD) {
		memcpy(&cmd_seen, arg, sizeof(cmd_seen));
		if (cmd_seen.data_len <= sizeof(captured))
			memcpy(captured, (void *)(uintptr_t)cmd_seen.addr, cmd_seen.data_len);
		seen = 1;
	}
	return 0;
}

static void hex(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

int main(void)
{
	enum { NR = 3 };
	__u16 nlbs[NR] = { 7, 3, 0 };
	__u64 slbas[NR] = { 0, 16, 0x123456789aULL };
	__u32 eilbrts[NR] = { 0x11111111, 0x22222222, 0x33333333 };
	__u64 eilbrts64[NR] = { 0x0102030405060708ULL, 0x1112131415161718ULL, 0x2122232425262728ULL };
	__u32 elbatms[NR] = { 0xa1a1, 0xa2a2, 0xa3a3 };
	__u32 elbats[NR] = { 0xb1b1, 0xb2b2, 0xb3b3 };
	struct nvme_copy_range f0[NR];
	struct nvme_copy_range_f1 f1[NR];

	nvme_init_copy_range(f0, nlbs, slbas, eilbrts, elbatms, elbats, NR);
	nvme_init_copy_range_f1(f1, nlbs, slbas, eilbrts64, elbatms, elbats, NR);
	for (int i = 0; i < NR; i++) {
		/* libnvme 1.3's own view of each field, read back from its structures. */
		printf("{\"format\":0,\"i\":%d,\"slba\":%llu,\"nlb\":%u,\"eilbrt\":%u,\"libnvme_elbatm\":%u,\"libnvme_elbat\":%u,\"bytes\":\"",
		       i, (unsigned long long)le64toh(f0[i].slba), le16toh(f0[i].nlb), le32toh(f0[i].eilbrt),
		       le16toh(f0[i].elbatm), le16toh(f0[i].elbat));
		hex(&f0[i], sizeof(f0[i]));
		printf("\"}\n");
		printf("{\"format\":1,\"i\":%d,\"slba\":%llu,\"nlb\":%u,\"elbt\":\"", i, (unsigned long long)le64toh(f1[i].slba), le16toh(f1[i].nlb));
		hex(f1[i].elbt, sizeof(f1[i].elbt));
		printf("\",\"libnvme_elbatm\":%u,\"libnvme_elbat\":%u,\"bytes\":\"", le16toh(f1[i].elbatm), le16toh(f1[i].elbat));
		hex(&f1[i], sizeof(f1[i]));
		printf("\"}\n");
	}

	/* Two ranges of the format 0 list, as a Copy to SDLBA 1000 on namespace 1, with FUA and tags. */
	struct nvme_copy_args args = {
		.args_size = sizeof(args), .fd = 3, .nsid = 1, .copy = f0, .nr = 2, .sdlba = 1000,
		.format = 0, .fua = 1, .lr = 0, .ilbrt = 0x55667788, .lbatm = 0xc3c3, .lbat = 0xd4d4,
		.dspec = 0x0102, .prinfor = 0x1, .prinfow = 0x2, .dtype = 0, .result = NULL,
	};
	int rc = nvme_copy(&args);
	if (!seen) {
		fprintf(stderr, "nvme_copy() did not reach ioctl (rc %d)\n", rc);
		return 1;
	}
	printf("{\"command\":true,\"opcode\":%u,\"nsid\":%u,\"cdw\":[%u,%u,%u,%u,%u,%u,%u,%u],\"data\":\"",
	       cmd_seen.opcode, cmd_seen.nsid, cmd_seen.cdw2, cmd_seen.cdw3, cmd_seen.cdw10, cmd_seen.cdw11,
	       cmd_seen.cdw12, cmd_seen.cdw13, cmd_seen.cdw14, cmd_seen.cdw15);
	hex(captured, cmd_seen.data_len);
	printf("\"}\n");
	return 0;
}
