"""CLIP-format byte-level BPE: train merges on the captions, encode like
CLIP's SimpleTokenizer (NFC, lower-case, collapsed whitespace, CLIP's
pre-tokenisation regex, `</w>` on each word's last symbol, BOS + ids + EOS,
truncated to MAX_LEN keeping EOS, padded with EOS)."""
import json
import sys
import unicodedata
from collections import Counter

from config import MAX_LEN, MODELS, SMOKE, path

NUM_MERGES = 1500
BOS, EOS = "<|startoftext|>", "<|endoftext|>"
CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_ENCODER = bytes_to_unicode()


def _cat(ch):
    c = unicodedata.category(ch)[0]
    return "L" if c == "L" else "N" if c == "N" else "S" if ch.isspace() else "P"


def pre_tokenize(text):
    """Same matches as CLIP's regex
    <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"""
    out, i = [], 0
    while i < len(text):
        for special in (BOS, EOS) + CONTRACTIONS:
            if text.startswith(special, i):
                out.append(special)
                i += len(special)
                break
        else:
            kind = _cat(text[i])
            if kind == "S":
                i += 1
                continue
            j = i + 1
            if kind != "N":
                while j < len(text) and _cat(text[j]) == kind:
                    j += 1
            out.append(text[i:j])
            i = j
    return out


def clean(text):
    return " ".join(unicodedata.normalize("NFC", text).split()).lower()


def words(text):
    return ["".join(BYTE_ENCODER[b] for b in w.encode("utf-8")) for w in pre_tokenize(clean(text))]


def base_vocab():
    v = list(BYTE_ENCODER.values())
    return v + [s + "</w>" for s in v]


def _merge(word, pair):
    out, i = [], 0
    while i < len(word):
        if i < len(word) - 1 and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def train(captions, num_merges=NUM_MERGES):
    counts = Counter(w for c in captions for w in words(c))
    corpus = {tuple(w[:-1]) + (w[-1] + "</w>",): n for w, n in counts.items()}
    vocab = set(base_vocab())
    merges = []
    while len(merges) < num_merges:
        pairs = Counter()
        for w, n in corpus.items():
            for p in zip(w, w[1:]):
                pairs[p] += n
        cands = [(n, p) for p, n in pairs.items() if n >= 2 and p[0] + p[1] not in vocab]
        if not cands:
            break
        _, best = max(cands, key=lambda x: (x[0], [-ord(ch) for ch in x[1][0] + " " + x[1][1]]))
        merges.append(best)
        vocab.add(best[0] + best[1])
        corpus = {_merge(w, best): n for w, n in corpus.items()}
    tokens = base_vocab() + [a + b for a, b in merges] + [BOS, EOS]
    return {t: i for i, t in enumerate(tokens)}, merges


class Tokenizer:
    def __init__(self, vocab, merges, max_len=MAX_LEN):
        self.vocab, self.max_len = vocab, max_len
        self.ranks = {tuple(m): i for i, m in enumerate(merges)}
        self.bos, self.eos = vocab[BOS], vocab[EOS]

    @classmethod
    def load(cls, directory, max_len=MAX_LEN):
        vocab = json.load(open(f"{directory}/vocab.json", encoding="utf-8"))
        lines = open(f"{directory}/merges.txt", encoding="utf-8").read().split("\n")[1:]
        return cls(vocab, [tuple(l.split(" ")) for l in lines if l], max_len)

    def bpe(self, token):
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            word = _merge(word, best)
        return word

    def encode(self, text):
        ids = [self.vocab[t] for w in words(text) for t in self.bpe(w)]
        ids = [self.bos] + ids[: self.max_len - 2] + [self.eos]
        return ids + [self.eos] * (self.max_len - len(ids))


def save(vocab, merges, directory):
    directory.mkdir(parents=True, exist_ok=True)
    json.dump(vocab, open(directory / "vocab.json", "w", encoding="utf-8"), ensure_ascii=False)
    with open(directory / "merges.txt", "w", encoding="utf-8") as f:
        f.write("#version: 0.2 - trained by models/tokenizer.py on emoji-test.txt names\n")
        f.writelines(f"{a} {b}\n" for a, b in merges)


EXAMPLE_TEXTS = [
    "", "red heart", "blue circle", "purple square", "cat face", "grinning face with big eyes",
    "  Thumbs   UP:\tmedium skin tone ", "flag: Côte d’Ivoire", "Japanese “not free of charge” button",
    "piñata", "keycap: 10", "woman's hat", "it's a zebra-striped spaceship!!", "1st place medal",
    "ÉCOLE über naïve café", "日本語のテキスト", "emoji 😀 inside", "<|startoftext|>orange<|endoftext|>",
    "a very long prompt with many many words that will certainly be truncated at sixteen tokens",
    "we'll they've I'm you'd don't", "123 4567", "red, orange & yellow...",
]


def write_examples(tok, texts, dst):
    """{text, ids} pairs the app's TypeScript tokenizer must reproduce exactly."""
    head = {"maxLength": tok.max_len, "bosTokenId": tok.bos, "eosTokenId": tok.eos, "padTokenId": tok.eos,
            "truncation": "BOS + first maxLength-2 ids + EOS, then EOS padding"}
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    rows = ",\n".join("    " + json.dumps({"text": t, "ids": tok.encode(t)}, ensure_ascii=False) for t in texts)
    dst.write_text("{\n" + "\n".join(lines) + '\n  "examples": [\n' + rows + "\n  ]\n}\n", encoding="utf-8")


def main():
    out = path("tokenizer")
    if (out / "merges.txt").exists():
        print("tokenizer: cached", file=sys.stderr)
        return
    captions = json.load(open(path("data", "captions.json"), encoding="utf-8"))
    vocab, merges = train(captions)
    save(vocab, merges, out)
    tok = Tokenizer(vocab, merges)
    lengths = [len([i for i in tok.encode(c)[1:] if i != tok.eos]) + 2 for c in captions]
    texts = EXAMPLE_TEXTS + captions[::97]
    write_examples(tok, texts, MODELS / "tokenizer_examples.json" if not SMOKE else path("tokenizer_examples.json"))
    print(f"tokenizer: {len(vocab)} tokens, {len(merges)} merges, longest caption {max(lengths)} tokens, "
          f"{sum(l > MAX_LEN for l in lengths)} truncated", file=sys.stderr)


if __name__ == "__main__":
    main()
