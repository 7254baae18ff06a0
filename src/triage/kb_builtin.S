/* kb_builtin.S: links the knowledge base YAML into the binary, so an installed firebreak always
 * carries the KB of its own version. Paths are relative to the top of the source tree. */
        .section .rodata
        .global fb_kb_builtin_mitre, fb_kb_builtin_mitre_end
fb_kb_builtin_mitre:
        .incbin "policies/kb/mitre.yaml"
fb_kb_builtin_mitre_end:
        .byte 0
        .global fb_kb_builtin_common, fb_kb_builtin_common_end
fb_kb_builtin_common:
        .incbin "policies/kb/common.yaml"
fb_kb_builtin_common_end:
        .byte 0
        .global fb_kb_builtin_rules, fb_kb_builtin_rules_end
fb_kb_builtin_rules:
        .incbin "policies/kb/rules.yaml"
fb_kb_builtin_rules_end:
        .byte 0
        .section .note.GNU-stack,"",@progbits
