/*
 * interrupts.S - entry stubs for all 256 interrupt vectors.
 * Each stub pushes a dummy error code when the CPU does not push one, then the vector, and
 * jumps to interrupt_common, which saves every general register (the InterruptFrame that
 * Hal/InterruptFrame.cs describes, lowest address first: r15 ... rax, vector, error code,
 * then the CPU's rip, cs, rflags, rsp, ss) and the SSE state (fxsave: managed code uses
 * SSE registers), calls the managed aegis_interrupt_dispatch(frame) and returns with iretq.
 * Invariant: rsp is 16-byte aligned at the call (the CPU aligns it before pushing its frame
 * in 64-bit mode; 22 quadwords + 512 bytes of fxsave area keep it aligned).
 */
    .text
    .code64

    .balign 16
interrupt_stub_0:
    pushq $0
    pushq $0
    jmp interrupt_common

    .balign 16
interrupt_stub_1:
    pushq $0
    pushq $1
    jmp interrupt_common

    .balign 16
interrupt_stub_2:
    pushq $0
    pushq $2
    jmp interrupt_common

    .balign 16
interrupt_stub_3:
    pushq $0
    pushq $3
    jmp interrupt_common

    .balign 16
interrupt_stub_4:
    pushq $0
    pushq $4
    jmp interrupt_common

    .balign 16
interrupt_stub_5:
    pushq $0
    pushq $5
    jmp interrupt_common

    .balign 16
interrupt_stub_6:
    pushq $0
    pushq $6
    jmp interrupt_common

    .balign 16
interrupt_stub_7:
    pushq $0
    pushq $7
    jmp interrupt_common

    .balign 16
interrupt_stub_8:
    pushq $8
    jmp interrupt_common

    .balign 16
interrupt_stub_9:
    pushq $0
    pushq $9
    jmp interrupt_common

    .balign 16
interrupt_stub_10:
    pushq $10
    jmp interrupt_common

    .balign 16
interrupt_stub_11:
    pushq $11
    jmp interrupt_common

    .balign 16
interrupt_stub_12:
    pushq $12
    jmp interrupt_common

    .balign 16
interrupt_stub_13:
    pushq $13
    jmp interrupt_common

    .balign 16
interrupt_stub_14:
    pushq $14
    jmp interrupt_common

    .balign 16
interrupt_stub_15:
    pushq $0
    pushq $15
    jmp interrupt_common

    .balign 16
interrupt_stub_16:
    pushq $0
    pushq $16
    jmp interrupt_common

    .balign 16
interrupt_stub_17:
    pushq $17
    jmp interrupt_common

    .balign 16
interrupt_stub_18:
    pushq $0
    pushq $18
    jmp interrupt_common

    .balign 16
interrupt_stub_19:
    pushq $0
    pushq $19
    jmp interrupt_common

    .balign 16
interrupt_stub_20:
    pushq $0
    pushq $20
    jmp interrupt_common

    .balign 16
interrupt_stub_21:
    pushq $21
    jmp interrupt_common

    .balign 16
interrupt_stub_22:
    pushq $0
    pushq $22
    jmp interrupt_common

    .balign 16
interrupt_stub_23:
    pushq $0
    pushq $23
    jmp interrupt_common

    .balign 16
interrupt_stub_24:
    pushq $0
    pushq $24
    jmp interrupt_common

    .balign 16
interrupt_stub_25:
    pushq $0
    pushq $25
    jmp interrupt_common

    .balign 16
interrupt_stub_26:
    pushq $0
    pushq $26
    jmp interrupt_common

    .balign 16
interrupt_stub_27:
    pushq $0
    pushq $27
    jmp interrupt_common

    .balign 16
interrupt_stub_28:
    pushq $0
    pushq $28
    jmp interrupt_common

    .balign 16
interrupt_stub_29:
    pushq $29
    jmp interrupt_common

    .balign 16
interrupt_stub_30:
    pushq $30
    jmp interrupt_common

    .balign 16
interrupt_stub_31:
    pushq $0
    pushq $31
    jmp interrupt_common

    .balign 16
interrupt_stub_32:
    pushq $0
    pushq $32
    jmp interrupt_common

    .balign 16
interrupt_stub_33:
    pushq $0
    pushq $33
    jmp interrupt_common

    .balign 16
interrupt_stub_34:
    pushq $0
    pushq $34
    jmp interrupt_common

    .balign 16
interrupt_stub_35:
    pushq $0
    pushq $35
    jmp interrupt_common

    .balign 16
interrupt_stub_36:
    pushq $0
    pushq $36
    jmp interrupt_common

    .balign 16
interrupt_stub_37:
    pushq $0
    pushq $37
    jmp interrupt_common

    .balign 16
interrupt_stub_38:
    pushq $0
    pushq $38
    jmp interrupt_common

    .balign 16
interrupt_stub_39:
    pushq $0
    pushq $39
    jmp interrupt_common

    .balign 16
interrupt_stub_40:
    pushq $0
    pushq $40
    jmp interrupt_common

    .balign 16
interrupt_stub_41:
    pushq $0
    pushq $41
    jmp interrupt_common

    .balign 16
interrupt_stub_42:
    pushq $0
    pushq $42
    jmp interrupt_common

    .balign 16
interrupt_stub_43:
    pushq $0
    pushq $43
    jmp interrupt_common

    .balign 16
interrupt_stub_44:
    pushq $0
    pushq $44
    jmp interrupt_common

    .balign 16
interrupt_stub_45:
    pushq $0
    pushq $45
    jmp interrupt_common

    .balign 16
interrupt_stub_46:
    pushq $0
    pushq $46
    jmp interrupt_common

    .balign 16
interrupt_stub_47:
    pushq $0
    pushq $47
    jmp interrupt_common

    .balign 16
interrupt_stub_48:
    pushq $0
    pushq $48
    jmp interrupt_common

    .balign 16
interrupt_stub_49:
    pushq $0
    pushq $49
    jmp interrupt_common

    .balign 16
interrupt_stub_50:
    pushq $0
    pushq $50
    jmp interrupt_common

    .balign 16
interrupt_stub_51:
    pushq $0
    pushq $51
    jmp interrupt_common

    .balign 16
interrupt_stub_52:
    pushq $0
    pushq $52
    jmp interrupt_common

    .balign 16
interrupt_stub_53:
    pushq $0
    pushq $53
    jmp interrupt_common

    .balign 16
interrupt_stub_54:
    pushq $0
    pushq $54
    jmp interrupt_common

    .balign 16
interrupt_stub_55:
    pushq $0
    pushq $55
    jmp interrupt_common

    .balign 16
interrupt_stub_56:
    pushq $0
    pushq $56
    jmp interrupt_common

    .balign 16
interrupt_stub_57:
    pushq $0
    pushq $57
    jmp interrupt_common

    .balign 16
interrupt_stub_58:
    pushq $0
    pushq $58
    jmp interrupt_common

    .balign 16
interrupt_stub_59:
    pushq $0
    pushq $59
    jmp interrupt_common

    .balign 16
interrupt_stub_60:
    pushq $0
    pushq $60
    jmp interrupt_common

    .balign 16
interrupt_stub_61:
    pushq $0
    pushq $61
    jmp interrupt_common

    .balign 16
interrupt_stub_62:
    pushq $0
    pushq $62
    jmp interrupt_common

    .balign 16
interrupt_stub_63:
    pushq $0
    pushq $63
    jmp interrupt_common

    .balign 16
interrupt_stub_64:
    pushq $0
    pushq $64
    jmp interrupt_common

    .balign 16
interrupt_stub_65:
    pushq $0
    pushq $65
    jmp interrupt_common

    .balign 16
interrupt_stub_66:
    pushq $0
    pushq $66
    jmp interrupt_common

    .balign 16
interrupt_stub_67:
    pushq $0
    pushq $67
    jmp interrupt_common

    .balign 16
interrupt_stub_68:
    pushq $0
    pushq $68
    jmp interrupt_common

    .balign 16
interrupt_stub_69:
    pushq $0
    pushq $69
    jmp interrupt_common

    .balign 16
interrupt_stub_70:
    pushq $0
    pushq $70
    jmp interrupt_common

    .balign 16
interrupt_stub_71:
    pushq $0
    pushq $71
    jmp interrupt_common

    .balign 16
interrupt_stub_72:
    pushq $0
    pushq $72
    jmp interrupt_common

    .balign 16
interrupt_stub_73:
    pushq $0
    pushq $73
    jmp interrupt_common

    .balign 16
interrupt_stub_74:
    pushq $0
    pushq $74
    jmp interrupt_common

    .balign 16
interrupt_stub_75:
    pushq $0
    pushq $75
    jmp interrupt_common

    .balign 16
interrupt_stub_76:
    pushq $0
    pushq $76
    jmp interrupt_common

    .balign 16
interrupt_stub_77:
    pushq $0
    pushq $77
    jmp interrupt_common

    .balign 16
interrupt_stub_78:
    pushq $0
    pushq $78
    jmp interrupt_common

    .balign 16
interrupt_stub_79:
    pushq $0
    pushq $79
    jmp interrupt_common

    .balign 16
interrupt_stub_80:
    pushq $0
    pushq $80
    jmp interrupt_common

    .balign 16
interrupt_stub_81:
    pushq $0
    pushq $81
    jmp interrupt_common

    .balign 16
interrupt_stub_82:
    pushq $0
    pushq $82
    jmp interrupt_common

    .balign 16
interrupt_stub_83:
    pushq $0
    pushq $83
    jmp interrupt_common

    .balign 16
interrupt_stub_84:
    pushq $0
    pushq $84
    jmp interrupt_common

    .balign 16
interrupt_stub_85:
    pushq $0
    pushq $85
    jmp interrupt_common

    .balign 16
interrupt_stub_86:
    pushq $0
    pushq $86
    jmp interrupt_common

    .balign 16
interrupt_stub_87:
    pushq $0
    pushq $87
    jmp interrupt_common

    .balign 16
interrupt_stub_88:
    pushq $0
    pushq $88
    jmp interrupt_common

    .balign 16
interrupt_stub_89:
    pushq $0
    pushq $89
    jmp interrupt_common

    .balign 16
interrupt_stub_90:
    pushq $0
    pushq $90
    jmp interrupt_common

    .balign 16
interrupt_stub_91:
    pushq $0
    pushq $91
    jmp interrupt_common

    .balign 16
interrupt_stub_92:
    pushq $0
    pushq $92
    jmp interrupt_common

    .balign 16
interrupt_stub_93:
    pushq $0
    pushq $93
    jmp interrupt_common

    .balign 16
interrupt_stub_94:
    pushq $0
    pushq $94
    jmp interrupt_common

    .balign 16
interrupt_stub_95:
    pushq $0
    pushq $95
    jmp interrupt_common

    .balign 16
interrupt_stub_96:
    pushq $0
    pushq $96
    jmp interrupt_common

    .balign 16
interrupt_stub_97:
    pushq $0
    pushq $97
    jmp interrupt_common

    .balign 16
interrupt_stub_98:
    pushq $0
    pushq $98
    jmp interrupt_common

    .balign 16
interrupt_stub_99:
    pushq $0
    pushq $99
    jmp interrupt_common

    .balign 16
interrupt_stub_100:
    pushq $0
    pushq $100
    jmp interrupt_common

    .balign 16
interrupt_stub_101:
    pushq $0
    pushq $101
    jmp interrupt_common

    .balign 16
interrupt_stub_102:
    pushq $0
    pushq $102
    jmp interrupt_common

    .balign 16
interrupt_stub_103:
    pushq $0
    pushq $103
    jmp interrupt_common

    .balign 16
interrupt_stub_104:
    pushq $0
    pushq $104
    jmp interrupt_common

    .balign 16
interrupt_stub_105:
    pushq $0
    pushq $105
    jmp interrupt_common

    .balign 16
interrupt_stub_106:
    pushq $0
    pushq $106
    jmp interrupt_common

    .balign 16
interrupt_stub_107:
    pushq $0
    pushq $107
    jmp interrupt_common

    .balign 16
interrupt_stub_108:
    pushq $0
    pushq $108
    jmp interrupt_common

    .balign 16
interrupt_stub_109:
    pushq $0
    pushq $109
    jmp interrupt_common

    .balign 16
interrupt_stub_110:
    pushq $0
    pushq $110
    jmp interrupt_common

    .balign 16
interrupt_stub_111:
    pushq $0
    pushq $111
    jmp interrupt_common

    .balign 16
interrupt_stub_112:
    pushq $0
    pushq $112
    jmp interrupt_common

    .balign 16
interrupt_stub_113:
    pushq $0
    pushq $113
    jmp interrupt_common

    .balign 16
interrupt_stub_114:
    pushq $0
    pushq $114
    jmp interrupt_common

    .balign 16
interrupt_stub_115:
    pushq $0
    pushq $115
    jmp interrupt_common

    .balign 16
interrupt_stub_116:
    pushq $0
    pushq $116
    jmp interrupt_common

    .balign 16
interrupt_stub_117:
    pushq $0
    pushq $117
    jmp interrupt_common

    .balign 16
interrupt_stub_118:
    pushq $0
    pushq $118
    jmp interrupt_common

    .balign 16
interrupt_stub_119:
    pushq $0
    pushq $119
    jmp interrupt_common

    .balign 16
interrupt_stub_120:
    pushq $0
    pushq $120
    jmp interrupt_common

    .balign 16
interrupt_stub_121:
    pushq $0
    pushq $121
    jmp interrupt_common

    .balign 16
interrupt_stub_122:
    pushq $0
    pushq $122
    jmp interrupt_common

    .balign 16
interrupt_stub_123:
    pushq $0
    pushq $123
    jmp interrupt_common

    .balign 16
interrupt_stub_124:
    pushq $0
    pushq $124
    jmp interrupt_common

    .balign 16
interrupt_stub_125:
    pushq $0
    pushq $125
    jmp interrupt_common

    .balign 16
interrupt_stub_126:
    pushq $0
    pushq $126
    jmp interrupt_common

    .balign 16
interrupt_stub_127:
    pushq $0
    pushq $127
    jmp interrupt_common

    .balign 16
interrupt_stub_128:
    pushq $0
    pushq $128
    jmp interrupt_common

    .balign 16
interrupt_stub_129:
    pushq $0
    pushq $129
    jmp interrupt_common

    .balign 16
interrupt_stub_130:
    pushq $0
    pushq $130
    jmp interrupt_common

    .balign 16
interrupt_stub_131:
    pushq $0
    pushq $131
    jmp interrupt_common

    .balign 16
interrupt_stub_132:
    pushq $0
    pushq $132
    jmp interrupt_common

    .balign 16
interrupt_stub_133:
    pushq $0
    pushq $133
    jmp interrupt_common

    .balign 16
interrupt_stub_134:
    pushq $0
    pushq $134
    jmp interrupt_common

    .balign 16
interrupt_stub_135:
    pushq $0
    pushq $135
    jmp interrupt_common

    .balign 16
interrupt_stub_136:
    pushq $0
    pushq $136
    jmp interrupt_common

    .balign 16
interrupt_stub_137:
    pushq $0
    pushq $137
    jmp interrupt_common

    .balign 16
interrupt_stub_138:
    pushq $0
    pushq $138
    jmp interrupt_common

    .balign 16
interrupt_stub_139:
    pushq $0
    pushq $139
    jmp interrupt_common

    .balign 16
interrupt_stub_140:
    pushq $0
    pushq $140
    jmp interrupt_common

    .balign 16
interrupt_stub_141:
    pushq $0
    pushq $141
    jmp interrupt_common

    .balign 16
interrupt_stub_142:
    pushq $0
    pushq $142
    jmp interrupt_common

    .balign 16
interrupt_stub_143:
    pushq $0
    pushq $143
    jmp interrupt_common

    .balign 16
interrupt_stub_144:
    pushq $0
    pushq $144
    jmp interrupt_common

    .balign 16
interrupt_stub_145:
    pushq $0
    pushq $145
    jmp interrupt_common

    .balign 16
interrupt_stub_146:
    pushq $0
    pushq $146
    jmp interrupt_common

    .balign 16
interrupt_stub_147:
    pushq $0
    pushq $147
    jmp interrupt_common

    .balign 16
interrupt_stub_148:
    pushq $0
    pushq $148
    jmp interrupt_common

    .balign 16
interrupt_stub_149:
    pushq $0
    pushq $149
    jmp interrupt_common

    .balign 16
interrupt_stub_150:
    pushq $0
    pushq $150
    jmp interrupt_common

    .balign 16
interrupt_stub_151:
    pushq $0
    pushq $151
    jmp interrupt_common

    .balign 16
interrupt_stub_152:
    pushq $0
    pushq $152
    jmp interrupt_common

    .balign 16
interrupt_stub_153:
    pushq $0
    pushq $153
    jmp interrupt_common

    .balign 16
interrupt_stub_154:
    pushq $0
    pushq $154
    jmp interrupt_common

    .balign 16
interrupt_stub_155:
    pushq $0
    pushq $155
    jmp interrupt_common

    .balign 16
interrupt_stub_156:
    pushq $0
    pushq $156
    jmp interrupt_common

    .balign 16
interrupt_stub_157:
    pushq $0
    pushq $157
    jmp interrupt_common

    .balign 16
interrupt_stub_158:
    pushq $0
    pushq $158
    jmp interrupt_common

    .balign 16
interrupt_stub_159:
    pushq $0
    pushq $159
    jmp interrupt_common

    .balign 16
interrupt_stub_160:
    pushq $0
    pushq $160
    jmp interrupt_common

    .balign 16
interrupt_stub_161:
    pushq $0
    pushq $161
    jmp interrupt_common

    .balign 16
interrupt_stub_162:
    pushq $0
    pushq $162
    jmp interrupt_common

    .balign 16
interrupt_stub_163:
    pushq $0
    pushq $163
    jmp interrupt_common

    .balign 16
interrupt_stub_164:
    pushq $0
    pushq $164
    jmp interrupt_common

    .balign 16
interrupt_stub_165:
    pushq $0
    pushq $165
    jmp interrupt_common

    .balign 16
interrupt_stub_166:
    pushq $0
    pushq $166
    jmp interrupt_common

    .balign 16
interrupt_stub_167:
    pushq $0
    pushq $167
    jmp interrupt_common

    .balign 16
interrupt_stub_168:
    pushq $0
    pushq $168
    jmp interrupt_common

    .balign 16
interrupt_stub_169:
    pushq $0
    pushq $169
    jmp interrupt_common

    .balign 16
interrupt_stub_170:
    pushq $0
    pushq $170
    jmp interrupt_common

    .balign 16
interrupt_stub_171:
    pushq $0
    pushq $171
    jmp interrupt_common

    .balign 16
interrupt_stub_172:
    pushq $0
    pushq $172
    jmp interrupt_common

    .balign 16
interrupt_stub_173:
    pushq $0
    pushq $173
    jmp interrupt_common

    .balign 16
interrupt_stub_174:
    pushq $0
    pushq $174
    jmp interrupt_common

    .balign 16
interrupt_stub_175:
    pushq $0
    pushq $175
    jmp interrupt_common

    .balign 16
interrupt_stub_176:
    pushq $0
    pushq $176
    jmp interrupt_common

    .balign 16
interrupt_stub_177:
    pushq $0
    pushq $177
    jmp interrupt_common

    .balign 16
interrupt_stub_178:
    pushq $0
    pushq $178
    jmp interrupt_common

    .balign 16
interrupt_stub_179:
    pushq $0
    pushq $179
    jmp interrupt_common

    .balign 16
interrupt_stub_180:
    pushq $0
    pushq $180
    jmp interrupt_common

    .balign 16
interrupt_stub_181:
    pushq $0
    pushq $181
    jmp interrupt_common

    .balign 16
interrupt_stub_182:
    pushq $0
    pushq $182
    jmp interrupt_common

    .balign 16
interrupt_stub_183:
    pushq $0
    pushq $183
    jmp interrupt_common

    .balign 16
interrupt_stub_184:
    pushq $0
    pushq $184
    jmp interrupt_common

    .balign 16
interrupt_stub_185:
    pushq $0
    pushq $185
    jmp interrupt_common

    .balign 16
interrupt_stub_186:
    pushq $0
    pushq $186
    jmp interrupt_common

    .balign 16
interrupt_stub_187:
    pushq $0
    pushq $187
    jmp interrupt_common

    .balign 16
interrupt_stub_188:
    pushq $0
    pushq $188
    jmp interrupt_common

    .balign 16
interrupt_stub_189:
    pushq $0
    pushq $189
    jmp interrupt_common

    .balign 16
interrupt_stub_190:
    pushq $0
    pushq $190
    jmp interrupt_common

    .balign 16
interrupt_stub_191:
    pushq $0
    pushq $191
    jmp interrupt_common

    .balign 16
interrupt_stub_192:
    pushq $0
    pushq $192
    jmp interrupt_common

    .balign 16
interrupt_stub_193:
    pushq $0
    pushq $193
    jmp interrupt_common

    .balign 16
interrupt_stub_194:
    pushq $0
    pushq $194
    jmp interrupt_common

    .balign 16
interrupt_stub_195:
    pushq $0
    pushq $195
    jmp interrupt_common

    .balign 16
interrupt_stub_196:
    pushq $0
    pushq $196
    jmp interrupt_common

    .balign 16
interrupt_stub_197:
    pushq $0
    pushq $197
    jmp interrupt_common

    .balign 16
interrupt_stub_198:
    pushq $0
    pushq $198
    jmp interrupt_common

    .balign 16
interrupt_stub_199:
    pushq $0
    pushq $199
    jmp interrupt_common

    .balign 16
interrupt_stub_200:
    pushq $0
    pushq $200
    jmp interrupt_common

    .balign 16
interrupt_stub_201:
    pushq $0
    pushq $201
    jmp interrupt_common

    .balign 16
interrupt_stub_202:
    pushq $0
    pushq $202
    jmp interrupt_common

    .balign 16
interrupt_stub_203:
    pushq $0
    pushq $203
    jmp interrupt_common

    .balign 16
interrupt_stub_204:
    pushq $0
    pushq $204
    jmp interrupt_common

    .balign 16
interrupt_stub_205:
    pushq $0
    pushq $205
    jmp interrupt_common

    .balign 16
interrupt_stub_206:
    pushq $0
    pushq $206
    jmp interrupt_common

    .balign 16
interrupt_stub_207:
    pushq $0
    pushq $207
    jmp interrupt_common

    .balign 16
interrupt_stub_208:
    pushq $0
    pushq $208
    jmp interrupt_common

    .balign 16
interrupt_stub_209:
    pushq $0
    pushq $209
    jmp interrupt_common

    .balign 16
interrupt_stub_210:
    pushq $0
    pushq $210
    jmp interrupt_common

    .balign 16
interrupt_stub_211:
    pushq $0
    pushq $211
    jmp interrupt_common

    .balign 16
interrupt_stub_212:
    pushq $0
    pushq $212
    jmp interrupt_common

    .balign 16
interrupt_stub_213:
    pushq $0
    pushq $213
    jmp interrupt_common

    .balign 16
interrupt_stub_214:
    pushq $0
    pushq $214
    jmp interrupt_common

    .balign 16
interrupt_stub_215:
    pushq $0
    pushq $215
    jmp interrupt_common

    .balign 16
interrupt_stub_216:
    pushq $0
    pushq $216
    jmp interrupt_common

    .balign 16
interrupt_stub_217:
    pushq $0
    pushq $217
    jmp interrupt_common

    .balign 16
interrupt_stub_218:
    pushq $0
    pushq $218
    jmp interrupt_common

    .balign 16
interrupt_stub_219:
    pushq $0
    pushq $219
    jmp interrupt_common

    .balign 16
interrupt_stub_220:
    pushq $0
    pushq $220
    jmp interrupt_common

    .balign 16
interrupt_stub_221:
    pushq $0
    pushq $221
    jmp interrupt_common

    .balign 16
interrupt_stub_222:
    pushq $0
    pushq $222
    jmp interrupt_common

    .balign 16
interrupt_stub_223:
    pushq $0
    pushq $223
    jmp interrupt_common

    .balign 16
interrupt_stub_224:
    pushq $0
    pushq $224
    jmp interrupt_common

    .balign 16
interrupt_stub_225:
    pushq $0
    pushq $225
    jmp interrupt_common

    .balign 16
interrupt_stub_226:
    pushq $0
    pushq $226
    jmp interrupt_common

    .balign 16
interrupt_stub_227:
    pushq $0
    pushq $227
    jmp interrupt_common

    .balign 16
interrupt_stub_228:
    pushq $0
    pushq $228
    jmp interrupt_common

    .balign 16
interrupt_stub_229:
    pushq $0
    pushq $229
    jmp interrupt_common

    .balign 16
interrupt_stub_230:
    pushq $0
    pushq $230
    jmp interrupt_common

    .balign 16
interrupt_stub_231:
    pushq $0
    pushq $231
    jmp interrupt_common

    .balign 16
interrupt_stub_232:
    pushq $0
    pushq $232
    jmp interrupt_common

    .balign 16
interrupt_stub_233:
    pushq $0
    pushq $233
    jmp interrupt_common

    .balign 16
interrupt_stub_234:
    pushq $0
    pushq $234
    jmp interrupt_common

    .balign 16
interrupt_stub_235:
    pushq $0
    pushq $235
    jmp interrupt_common

    .balign 16
interrupt_stub_236:
    pushq $0
    pushq $236
    jmp interrupt_common

    .balign 16
interrupt_stub_237:
    pushq $0
    pushq $237
    jmp interrupt_common

    .balign 16
interrupt_stub_238:
    pushq $0
    pushq $238
    jmp interrupt_common

    .balign 16
interrupt_stub_239:
    pushq $0
    pushq $239
    jmp interrupt_common

    .balign 16
interrupt_stub_240:
    pushq $0
    pushq $240
    jmp interrupt_common

    .balign 16
interrupt_stub_241:
    pushq $0
    pushq $241
    jmp interrupt_common

    .balign 16
interrupt_stub_242:
    pushq $0
    pushq $242
    jmp interrupt_common

    .balign 16
interrupt_stub_243:
    pushq $0
    pushq $243
    jmp interrupt_common

    .balign 16
interrupt_stub_244:
    pushq $0
    pushq $244
    jmp interrupt_common

    .balign 16
interrupt_stub_245:
    pushq $0
    pushq $245
    jmp interrupt_common

    .balign 16
interrupt_stub_246:
    pushq $0
    pushq $246
    jmp interrupt_common

    .balign 16
interrupt_stub_247:
    pushq $0
    pushq $247
    jmp interrupt_common

    .balign 16
interrupt_stub_248:
    pushq $0
    pushq $248
    jmp interrupt_common

    .balign 16
interrupt_stub_249:
    pushq $0
    pushq $249
    jmp interrupt_common

    .balign 16
interrupt_stub_250:
    pushq $0
    pushq $250
    jmp interrupt_common

    .balign 16
interrupt_stub_251:
    pushq $0
    pushq $251
    jmp interrupt_common

    .balign 16
interrupt_stub_252:
    pushq $0
    pushq $252
    jmp interrupt_common

    .balign 16
interrupt_stub_253:
    pushq $0
    pushq $253
    jmp interrupt_common

    .balign 16
interrupt_stub_254:
    pushq $0
    pushq $254
    jmp interrupt_common

    .balign 16
interrupt_stub_255:
    pushq $0
    pushq $255
    jmp interrupt_common


interrupt_common:
    cld
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    sub $512, %rsp
    fxsave (%rsp)
    call aegis_interrupt_dispatch
    fxrstor (%rsp)
    add $512, %rsp
    mov %rsp, %rdi
    jmp aegis_resume_user   /* Boot/usermode.S: pops the frame and iretqs (kernel or user mode) */

/* The stub addresses, in vector order, for the IDT builder (Hal/InterruptDescriptorTable.cs). */
    .section .rodata
    .balign 8
    .globl aegis_interrupt_stubs
aegis_interrupt_stubs:

    .quad interrupt_stub_0
    .quad interrupt_stub_1
    .quad interrupt_stub_2
    .quad interrupt_stub_3
    .quad interrupt_stub_4
    .quad interrupt_stub_5
    .quad interrupt_stub_6
    .quad interrupt_stub_7
    .quad interrupt_stub_8
    .quad interrupt_stub_9
    .quad interrupt_stub_10
    .quad interrupt_stub_11
    .quad interrupt_stub_12
    .quad interrupt_stub_13
    .quad interrupt_stub_14
    .quad interrupt_stub_15
    .quad interrupt_stub_16
    .quad interrupt_stub_17
    .quad interrupt_stub_18
    .quad interrupt_stub_19
    .quad interrupt_stub_20
    .quad interrupt_stub_21
    .quad interrupt_stub_22
    .quad interrupt_stub_23
    .quad interrupt_stub_24
    .quad interrupt_stub_25
    .quad interrupt_stub_26
    .quad interrupt_stub_27
    .quad interrupt_stub_28
    .quad interrupt_stub_29
    .quad interrupt_stub_30
    .quad interrupt_stub_31
    .quad interrupt_stub_32
    .quad interrupt_stub_33
    .quad interrupt_stub_34
    .quad interrupt_stub_35
    .quad interrupt_stub_36
    .quad interrupt_stub_37
    .quad interrupt_stub_38
    .quad interrupt_stub_39
    .quad interrupt_stub_40
    .quad interrupt_stub_41
    .quad interrupt_stub_42
    .quad interrupt_stub_43
    .quad interrupt_stub_44
    .quad interrupt_stub_45
    .quad interrupt_stub_46
    .quad interrupt_stub_47
    .quad interrupt_stub_48
    .quad interrupt_stub_49
    .quad interrupt_stub_50
    .quad interrupt_stub_51
    .quad interrupt_stub_52
    .quad interrupt_stub_53
    .quad interrupt_stub_54
    .quad interrupt_stub_55
    .quad interrupt_stub_56
    .quad interrupt_stub_57
    .quad interrupt_stub_58
    .quad interrupt_stub_59
    .quad interrupt_stub_60
    .quad interrupt_stub_61
    .quad interrupt_stub_62
    .quad interrupt_stub_63
    .quad interrupt_stub_64
    .quad interrupt_stub_65
    .quad interrupt_stub_66
    .quad interrupt_stub_67
    .quad interrupt_stub_68
    .quad interrupt_stub_69
    .quad interrupt_stub_70
    .quad interrupt_stub_71
    .quad interrupt_stub_72
    .quad interrupt_stub_73
    .quad interrupt_stub_74
    .quad interrupt_stub_75
    .quad interrupt_stub_76
    .quad interrupt_stub_77
    .quad interrupt_stub_78
    .quad interrupt_stub_79
    .quad interrupt_stub_80
    .quad interrupt_stub_81
    .quad interrupt_stub_82
    .quad interrupt_stub_83
    .quad interrupt_stub_84
    .quad interrupt_stub_85
    .quad interrupt_stub_86
    .quad interrupt_stub_87
    .quad interrupt_stub_88
    .quad interrupt_stub_89
    .quad interrupt_stub_90
    .quad interrupt_stub_91
    .quad interrupt_stub_92
    .quad interrupt_stub_93
    .quad interrupt_stub_94
    .quad interrupt_stub_95
    .quad interrupt_stub_96
    .quad interrupt_stub_97
    .quad interrupt_stub_98
    .quad interrupt_stub_99
    .quad interrupt_stub_100
    .quad interrupt_stub_101
    .quad interrupt_stub_102
    .quad interrupt_stub_103
    .quad interrupt_stub_104
    .quad interrupt_stub_105
    .quad interrupt_stub_106
    .quad interrupt_stub_107
    .quad interrupt_stub_108
    .quad interrupt_stub_109
    .quad interrupt_stub_110
    .quad interrupt_stub_111
    .quad interrupt_stub_112
    .quad interrupt_stub_113
    .quad interrupt_stub_114
    .quad interrupt_stub_115
    .quad interrupt_stub_116
    .quad interrupt_stub_117
    .quad interrupt_stub_118
    .quad interrupt_stub_119
    .quad interrupt_stub_120
    .quad interrupt_stub_121
    .quad interrupt_stub_122
    .quad interrupt_stub_123
    .quad interrupt_stub_124
    .quad interrupt_stub_125
    .quad interrupt_stub_126
    .quad interrupt_stub_127
    .quad interrupt_stub_128
    .quad interrupt_stub_129
    .quad interrupt_stub_130
    .quad interrupt_stub_131
    .quad interrupt_stub_132
    .quad interrupt_stub_133
    .quad interrupt_stub_134
    .quad interrupt_stub_135
    .quad interrupt_stub_136
    .quad interrupt_stub_137
    .quad interrupt_stub_138
    .quad interrupt_stub_139
    .quad interrupt_stub_140
    .quad interrupt_stub_141
    .quad interrupt_stub_142
    .quad interrupt_stub_143
    .quad interrupt_stub_144
    .quad interrupt_stub_145
    .quad interrupt_stub_146
    .quad interrupt_stub_147
    .quad interrupt_stub_148
    .quad interrupt_stub_149
    .quad interrupt_stub_150
    .quad interrupt_stub_151
    .quad interrupt_stub_152
    .quad interrupt_stub_153
    .quad interrupt_stub_154
    .quad interrupt_stub_155
    .quad interrupt_stub_156
    .quad interrupt_stub_157
    .quad interrupt_stub_158
    .quad interrupt_stub_159
    .quad interrupt_stub_160
    .quad interrupt_stub_161
    .quad interrupt_stub_162
    .quad interrupt_stub_163
    .quad interrupt_stub_164
    .quad interrupt_stub_165
    .quad interrupt_stub_166
    .quad interrupt_stub_167
    .quad interrupt_stub_168
    .quad interrupt_stub_169
    .quad interrupt_stub_170
    .quad interrupt_stub_171
    .quad interrupt_stub_172
    .quad interrupt_stub_173
    .quad interrupt_stub_174
    .quad interrupt_stub_175
    .quad interrupt_stub_176
    .quad interrupt_stub_177
    .quad interrupt_stub_178
    .quad interrupt_stub_179
    .quad interrupt_stub_180
    .quad interrupt_stub_181
    .quad interrupt_stub_182
    .quad interrupt_stub_183
    .quad interrupt_stub_184
    .quad interrupt_stub_185
    .quad interrupt_stub_186
    .quad interrupt_stub_187
    .quad interrupt_stub_188
    .quad interrupt_stub_189
    .quad interrupt_stub_190
    .quad interrupt_stub_191
    .quad interrupt_stub_192
    .quad interrupt_stub_193
    .quad interrupt_stub_194
    .quad interrupt_stub_195
    .quad interrupt_stub_196
    .quad interrupt_stub_197
    .quad interrupt_stub_198
    .quad interrupt_stub_199
    .quad interrupt_stub_200
    .quad interrupt_stub_201
    .quad interrupt_stub_202
    .quad interrupt_stub_203
    .quad interrupt_stub_204
    .quad interrupt_stub_205
    .quad interrupt_stub_206
    .quad interrupt_stub_207
    .quad interrupt_stub_208
    .quad interrupt_stub_209
    .quad interrupt_stub_210
    .quad interrupt_stub_211
    .quad interrupt_stub_212
    .quad interrupt_stub_213
    .quad interrupt_stub_214
    .quad interrupt_stub_215
    .quad interrupt_stub_216
    .quad interrupt_stub_217
    .quad interrupt_stub_218
    .quad interrupt_stub_219
    .quad interrupt_stub_220
    .quad interrupt_stub_221
    .quad interrupt_stub_222
    .quad interrupt_stub_223
    .quad interrupt_stub_224
    .quad interrupt_stub_225
    .quad interrupt_stub_226
    .quad interrupt_stub_227
    .quad interrupt_stub_228
    .quad interrupt_stub_229
    .quad interrupt_stub_230
    .quad interrupt_stub_231
    .quad interrupt_stub_232
    .quad interrupt_stub_233
    .quad interrupt_stub_234
    .quad interrupt_stub_235
    .quad interrupt_stub_236
    .quad interrupt_stub_237
    .quad interrupt_stub_238
    .quad interrupt_stub_239
    .quad interrupt_stub_240
    .quad interrupt_stub_241
    .quad interrupt_stub_242
    .quad interrupt_stub_243
    .quad interrupt_stub_244
    .quad interrupt_stub_245
    .quad interrupt_stub_246
    .quad interrupt_stub_247
    .quad interrupt_stub_248
    .quad interrupt_stub_249
    .quad interrupt_stub_250
    .quad interrupt_stub_251
    .quad interrupt_stub_252
    .quad interrupt_stub_253
    .quad interrupt_stub_254
    .quad interrupt_stub_255

    .text
    .globl aegis_symbol_interrupt_stubs
    .type aegis_symbol_interrupt_stubs, @function
aegis_symbol_interrupt_stubs:
    movabs $aegis_interrupt_stubs, %rax
    ret

    .section .note.GNU-stack, "", @progbits
