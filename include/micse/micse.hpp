#pragma once
// micse: header-only inference for miCSE (and any BERT-base-shaped encoder) from a GGUF file.
//
//   file -> gguf::File (mmap) -> BertWeights<T> (views) -> BertModel<T> -> Encoder -> caller
#include "error.hpp"
#include "gguf.hpp"
#include "vocab.hpp"
#include "tokenizer.hpp"
#include "weights.hpp"
#include "bert.hpp"
#include "encoder.hpp"
