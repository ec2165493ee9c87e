// Published checksums of the datasets' files and the sha256sum listing format: data and text, no file access (the
// main entry bundles for a browser; checking files on disk is @dale/data/node's).

/** Published checksums of the official files (and of our CIFAR-10 rebuild), from the shared datasets README. */
export interface KnownFile {
  sha256?: string;
  md5?: string;
  bytes?: number;
}

export const KNOWN_FILES: Record<string, Record<string, KnownFile>> = {
  mnist: {
    "train-images-idx3-ubyte.gz": { bytes: 9912422, md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873", sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609" },
    "train-labels-idx1-ubyte.gz": { bytes: 28881, md5: "d53e105ee54ea40749a09fcbcd1e9432", sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c" },
    "t10k-images-idx3-ubyte.gz": { bytes: 1648877, md5: "9fb629c4189551a2d022fa330f9573f3", sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6" },
    "t10k-labels-idx1-ubyte.gz": { bytes: 4542, md5: "ec29112dd5afa0611ce80d1b7f02629c", sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6" },
  },
  "fashion-mnist": {
    "train-images-idx3-ubyte.gz": { bytes: 26421880, md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d", sha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84" },
    "train-labels-idx1-ubyte.gz": { bytes: 29515, md5: "25c81989df183df01b3e8a0aad5dffbe", sha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845" },
    "t10k-images-idx3-ubyte.gz": { bytes: 4422102, md5: "bef4ecab320f06d8554ea6380940ec79", sha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073" },
    "t10k-labels-idx1-ubyte.gz": { bytes: 5148, md5: "bb300cfdad3c16e7a12a480ee83cd310", sha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5" },
  },
  kmnist: {
    // Not in our shared copy; only the upstream md5 and size are published.
    "train-images-idx3-ubyte.gz": { bytes: 18165135, md5: "bdb82020997e1d708af4cf47b453dcf7" },
    "train-labels-idx1-ubyte.gz": { bytes: 29497, md5: "e144d726b3acfaa3e44228e80efcd344", sha256: "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17" },
    "t10k-images-idx3-ubyte.gz": { bytes: 3041136, md5: "5c965bf0a639b31b8f53240b1b52f4d7", sha256: "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5" },
    "t10k-labels-idx1-ubyte.gz": { bytes: 5120, md5: "7320c461ea6c1c855c0b718fb2a4b134", sha256: "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c" },
  },
  cifar10: {
    // The official archive (https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz; its published md5 is
    // c32a1d4ab5d03f1284b67883e8d87530). A download is checked against it, then split into the files below.
    "cifar-10-binary.tar.gz": { bytes: 170052171, sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd" },
    // Our per-batch gzip rebuild (no official checksum covers these exact files).
    "data_batch_1.bin.gz": { bytes: 28313767, sha256: "6fcee3c4b6ea120cf82b263e2e9fe932e7edf7daf530e8b8ed62c178f70910c6" },
    "data_batch_2.bin.gz": { bytes: 28346891, sha256: "fdda9af5bfc1ff90c0018a3c997cc37619077ae8e4e7f1238323a8259607add2" },
    "data_batch_3.bin.gz": { bytes: 28358756, sha256: "6cfabbc0ca93a74e247cf16f68544c0b2162576f7e2aa8d8e5d73778cbdfe628" },
    "data_batch_4.bin.gz": { bytes: 28352478, sha256: "361042113c9a826b76ab9f91d499ae3102fd43ece9af030844a33b4d801c2743" },
    "data_batch_5.bin.gz": { bytes: 28328565, sha256: "4c618c86d699c20baa688bcbc1ca629a1c2e9bbe7647d66c2e6869b025174b12" },
    "test_batch.bin.gz": { bytes: 28167853, sha256: "d016b4db6ad902817e6d60d2c738e5ceeffce538d5dc1882ff0e2f0c1f19c343" },
  },
};

/** Parses a `sha256sum` listing (`<hex>  <name>` or `<hex> *<name>`) into name -> lowercase hex. */
export function parseSha256Sums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([0-9a-fA-F]{64})\s+\*?(.+)$/.exec(line);
    if (m) sums.set(baseName(m[2]!.trim()), m[1]!.toLowerCase());
  }
  return sums;
}

/** The last segment of a path, as Node's posix `basename` gives it (trailing slashes dropped). */
function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}
