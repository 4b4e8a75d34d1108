"""The starter spec `nncalc init` writes: the seed exercise, with comments that teach the format."""

STARTER = """\
# A network spec for nncalc: the seed exercise, a 2-3-1 ReLU network.
#   nncalc forward net.yaml        the forward pass
#   nncalc backprop net.yaml       gradients and one SGD step (--explain: the chain rule)
# Notation: a = Σ source·weight (+ bias) is a neuron's pre-activation, z = activation(a).
title: 2-3-1 ReLU network
inputs: {x1: 1, x2: 2}              # or `data:` with a list of {inputs, target} samples
params: {w1: 2, w2: 1, w3: 1, w4: -1, w5: 1, w6: 1, w7: -0.5, w8: 1, w9: 1.2}
neurons:                            # each: from {source: weight}, optional bias, activation
  h1: {from: {x1: w1, x2: w2}, activation: relu}
  h2: {from: {x1: w3, x2: w4}, activation: relu}
  h3: {from: {x1: w5, x2: w6}, activation: relu}
  o:  {from: {h1: w7, h2: w8, h3: w9}, activation: relu}
# activations: identity, relu, leaky_relu, sigmoid, tanh, sign, step, softplus, elu, silu,
#              gelu, softmax (a weight may also be a number, a number may be written "1/3")
outputs: [o]
target: {o: 6}
loss: half_squared_error            # L = 1/2 Σ (y − ŷ)²; also squared_error, mse, mae,
                                    # binary_cross_entropy, cross_entropy, softmax_cross_entropy
learning_rate: 1
"""
