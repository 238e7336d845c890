/* Entry of the stub guest. Vireo enters a PVH kernel in 32-bit protected mode
 * with flat segments, paging off and EBX = the hvm_start_info address. */
    .section .note.Xen, "a"
    .balign 4
    .long 4                     /* namesz: "Xen\0" */
    .long 4                     /* descsz */
    .long 18                    /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long stub_entry

    .section .text.entry, "ax"
    .code32
    .globl stub_entry
stub_entry:
    cli
    movl $stub_stack_top, %esp
    pushl %ebx                  /* stub_main(start_info) */
    call stub_main
1:  hlt
    jmp 1b

    .bss
    .balign 16
stub_stack:
    .skip 8192
stub_stack_top:
    .section .note.GNU-stack, "", @progbits
