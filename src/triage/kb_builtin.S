/* kb_builtin.S: links the knowledge base YAML into the binary, so an installed firebreak always
 * carries the KB of its own version. Paths are relative to the top of the source tree.
 * fb_kb_builtin_files lists the files, in load order, as {name, start, end} and ends with a
 * zero entry. Each file is followed by a NUL byte. A new file under policies/kb/rules/ is
 * added here (the Makefile rebuilds this when any of them changes). */
        .macro kbfile sym, path
        .section .rodata
\sym:
        .incbin "\path"
\sym\()_end:
        .byte 0
\sym\()_name:
        .asciz "builtin:\path"
        .endm

        .macro kbentry sym
        .quad \sym\()_name, \sym, \sym\()_end
        .endm

        kbfile fb_kb_builtin_mitre, "policies/kb/mitre.yaml"
        kbfile fb_kb_builtin_common, "policies/kb/common.yaml"
        kbfile kb_stable, "policies/kb/rules/stable.yaml"
        kbfile kb_incubating, "policies/kb/rules/incubating.yaml"
        kbfile kb_sandbox_1, "policies/kb/rules/sandbox-1.yaml"
        kbfile kb_sandbox_2, "policies/kb/rules/sandbox-2.yaml"
        kbfile kb_deprecated, "policies/kb/rules/deprecated.yaml"
        kbfile kb_k8saudit_0, "policies/kb/rules/k8saudit-0.yaml"
        kbfile kb_k8saudit_1, "policies/kb/rules/k8saudit-1.yaml"
        kbfile kb_k8saudit_2, "policies/kb/rules/k8saudit-2.yaml"
        kbfile kb_cloudtrail, "policies/kb/rules/cloudtrail.yaml"
        kbfile kb_gcpaudit, "policies/kb/rules/gcpaudit.yaml"
        kbfile kb_github, "policies/kb/rules/github.yaml"
        kbfile kb_okta, "policies/kb/rules/okta.yaml"
        kbfile kb_internal, "policies/kb/rules/internal.yaml"
        kbfile kb_renamed, "policies/kb/rules/renamed.yaml"

        .section .data.rel.ro
        .balign 8
        .global fb_kb_builtin_files
fb_kb_builtin_files:
        kbentry fb_kb_builtin_mitre
        kbentry fb_kb_builtin_common
        kbentry kb_stable
        kbentry kb_incubating
        kbentry kb_sandbox_1
        kbentry kb_sandbox_2
        kbentry kb_deprecated
        kbentry kb_k8saudit_0
        kbentry kb_k8saudit_1
        kbentry kb_k8saudit_2
        kbentry kb_cloudtrail
        kbentry kb_gcpaudit
        kbentry kb_github
        kbentry kb_okta
        kbentry kb_internal
        kbentry kb_renamed
        .quad 0, 0, 0
        .section .note.GNU-stack,"",@progbits
