"""init_transformer on a keras_hub GPT-2 backbone built offline from a small config.

No weights are downloaded: the backbone is built from its constructor. The
helper finds every role (embeddings, q/k/v/output, FFN, norms) by layer type
and applies GPT-2's scheme, then T-Fixup's.

    python examples/transformer_keras_hub.py [--smoke]
"""

import argparse

import keras_hub

import keras_inits as ki


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny, fast settings")
    args = parser.parse_args()
    layers, width = (2, 32) if args.smoke else (6, 128)
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=1000, num_layers=layers, num_heads=4, hidden_dim=width,
        intermediate_dim=4 * width, max_sequence_length=64,
    )
    report = ki.init_transformer(backbone, scheme="gpt2", seed=0)
    print(report)
    fixup = ki.init_transformer(backbone, scheme="t_fixup", seed=0)
    print(f"t_fixup touched {len(fixup.rows)} variables; skipped {len(fixup.skipped)}")


if __name__ == "__main__":
    main()
