"""The tokenizer routes lm-evaluation-harness's remote tokenizer reads (issue #20), checked
against the served GGUF file read by the `gguf` package: `/tokenizer_info`'s special tokens and
chat template are the file's, and `/tokenize` → `/detokenize` round-trips. With a key that may
use one model, `model` can be left out, as the harness leaves it out."""

import gguf


def metadata(path):
    reader = gguf.GGUFReader(path)

    def value(key):
        field = reader.fields[key]
        return field.contents()

    tokens = value("tokenizer.ggml.tokens")
    return {
        "eos_token": tokens[value("tokenizer.ggml.eos_token_id")],
        "bos_token": tokens[value("tokenizer.ggml.bos_token_id")],
        "chat_template": value("tokenizer.chat_template"),
        "vocab_size": len(tokens),
    }


def test_tokenizer_info_is_the_files(e2e):
    expected = metadata(e2e.closed_path)
    secret, _ = e2e.create_key("tokenizer-one-model", "--models", e2e.closed_id)
    with e2e.http(secret) as http:
        info = http.get("/tokenizer_info").json()
        for field, value in expected.items():
            assert info[field] == value, field
        assert info["model"] == e2e.closed_id
        ids = http.post("/tokenize", json={"prompt": "Paris is lovely", "add_special_tokens": False}).json()["tokens"]
        assert http.post("/detokenize", json={"tokens": ids}).json()["prompt"] == "Paris is lovely"
    with e2e.http(e2e.admin_key) as http:
        refused = http.get("/tokenizer_info")
        assert refused.status_code == 400 and refused.json()["error"]["param"] == "model"
        assert http.get("/tokenizer_info", params={"model": e2e.closed_id}).json() == info
