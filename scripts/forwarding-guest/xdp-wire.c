/*
 * xdp-wire IF1 IF2 [drv|skb]: turns two interfaces into a wire. An XDP program on each redirects
 * every frame it receives out of the other, before the kernel allocates an skb, the fastest
 * forwarding a virtio-net guest can do without a poll-mode driver. The programs are four BPF
 * instructions each, built here, so the image needs no compiler, libbpf or bpftool.
 * It stays in the foreground: the XDP links live as long as this process holds them.
 * Exit status 2: XDP could not be attached (the caller falls back to a bridge).
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* r1 = target ifindex; r2 = 0; r0 = bpf_redirect(r1, r2); return r0 (XDP_REDIRECT on success). */
static int load_redirect(unsigned int target, char *log, size_t log_size)
{
	struct bpf_insn program[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = (int32_t)target },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_XDP;
	attr.insns = (uint64_t)(uintptr_t)program;
	attr.insn_cnt = sizeof(program) / sizeof(program[0]);
	attr.license = (uint64_t)(uintptr_t)"GPL";
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = (uint32_t)log_size;
	attr.log_level = 1;
	return (int)bpf(BPF_PROG_LOAD, &attr);
}

static int attach(int program, unsigned int ifindex, uint32_t flags)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = (uint32_t)program;
	attr.link_create.target_ifindex = ifindex;
	attr.link_create.attach_type = BPF_XDP;
	attr.link_create.flags = flags;
	return (int)bpf(BPF_LINK_CREATE, &attr);
}

int main(int argc, char **argv)
{
	static char log[65536];
	unsigned int index[2];
	uint32_t flags = XDP_FLAGS_DRV_MODE;
	int i;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s IF1 IF2 [drv|skb]\n", argv[0]);
		return 1;
	}
	if (argc == 4 && strcmp(argv[3], "skb") == 0)
		flags = XDP_FLAGS_SKB_MODE;
	for (i = 0; i < 2; i++) {
		index[i] = if_nametoindex(argv[1 + i]);
		if (index[i] == 0) {
			fprintf(stderr, "xdp-wire: no interface %s: %s\n", argv[1 + i], strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < 2; i++) {
		int program = load_redirect(index[1 - i], log, sizeof(log));
		if (program < 0) {
			fprintf(stderr, "xdp-wire: loading the program for %s failed: %s\n%s\n", argv[1 + i], strerror(errno), log);
			return 2;
		}
		if (attach(program, index[i], flags) < 0) {
			fprintf(stderr, "xdp-wire: attaching to %s (%s mode) failed: %s\n", argv[1 + i],
				flags == XDP_FLAGS_SKB_MODE ? "skb" : "drv", strerror(errno));
			return 2;
		}
	}
	printf("xdp-wire: %s<->%s (%s mode)\n", argv[1], argv[2], flags == XDP_FLAGS_SKB_MODE ? "skb" : "drv");
	fflush(stdout);
	for (;;)
		pause();
}
