'use strict';
// A minimal ELF64 little-endian reader for the packaging tests: which machine a binary is for,
// whether it is stripped (no .symtab), its program interpreter, and the newest GLIBC_x.y
// version it names. Read here rather than with file(1)/readelf so the tests need no binutils.
const fs = require('node:fs');

const EM = { 62: 'x86_64', 183: 'aarch64' };
const SHT_SYMTAB = 2;
const PT_INTERP = 3;

function readElf(file) {
  const b = fs.readFileSync(file);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file}: not an ELF file`);
  if (b[4] !== 2 || b[5] !== 1) throw new Error(`${file}: not ELF64 little-endian`);
  const type = b.readUInt16LE(16); // 2 = EXEC, 3 = DYN (shared object or PIE)
  const machine = b.readUInt16LE(18);
  const phoff = Number(b.readBigUInt64LE(0x20));
  const shoff = Number(b.readBigUInt64LE(0x28));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);

  let interpreter = null;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (b.readUInt32LE(o) !== PT_INTERP) continue;
    const off = Number(b.readBigUInt64LE(o + 8));
    const size = Number(b.readBigUInt64LE(o + 32));
    interpreter = b.subarray(off, off + size).toString('latin1').replace(/\0+$/, '');
  }
  let symtab = false;
  for (let i = 0; i < shnum; i++) {
    if (b.readUInt32LE(shoff + i * shentsize + 4) === SHT_SYMTAB) symtab = true;
  }
  // The version-need names live in .dynstr; the newest one is the glibc the binary requires.
  const versions = [...new Set(b.toString('latin1').match(/GLIBC_2\.\d+/g) || [])]
    .map((v) => Number(v.split('.')[1])).sort((x, y) => x - y);
  return {
    type,
    machine: EM[machine] || `e_machine ${machine}`,
    stripped: !symtab,
    interpreter,
    glibc: versions.length ? `2.${versions[versions.length - 1]}` : null,
  };
}

module.exports = { readElf };
