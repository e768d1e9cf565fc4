"""Signal-propagation report and plot: why one initialization trains and another not.

A 30-layer plain ReLU MLP on scikit-learn's digits, with Keras' default
glorot_uniform and with keras_inits' kaiming_normal: the report's findings
say what goes wrong, and the overlaid plot shows it layer by layer.

    python examples/signal_report_plot.py [--smoke] [--out signal.png]
"""

import argparse

import keras

import keras_inits as ki
from keras_inits.demo import load_digits_split, plain_mlp


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="tiny, fast settings")
    parser.add_argument("--out", default="signal_propagation.png")
    args = parser.parse_args()
    depth = 10 if args.smoke else 30
    x_tr, y_tr, _, _ = load_digits_split(seed=0)
    reports = []
    for init in ("glorot_uniform", "kaiming_normal"):
        keras.utils.set_random_seed(0)
        model = plain_mlp(depth, kernel_initializer=init)
        report = ki.signal_report(model, x_tr[:256], y=y_tr[:256], loss="sparse_categorical_crossentropy")
        print(f"--- {init}: " + ("; ".join(report.findings) or "healthy"))
        reports.append(report)
    reports[0].plot(args.out, others=reports[1:], labels=["glorot_uniform (Keras default)", "kaiming_normal"])
    print(f"plot written to {args.out}")


if __name__ == "__main__":
    main()
