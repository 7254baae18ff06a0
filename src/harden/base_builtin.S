/* base_builtin.S: links the base seccomp profile (Docker 20.10's default, Apache-2.0, see
 * README) into the binary, so `seccomp generate` without --base needs no file. */
        .section .rodata
        .global fb_seccomp_base, fb_seccomp_base_end
fb_seccomp_base:
        .incbin "policies/seccomp/base.json"
fb_seccomp_base_end:
        .byte 0
        .section .note.GNU-stack,"",@progbits
