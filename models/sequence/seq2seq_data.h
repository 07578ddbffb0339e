// The data sets of the encoder-decoders as Seq2SeqData (models/sequence/seq2seq_task.h), and the
// task configurations that go with them:
//  - dates (models/data/date_data.h): characters -> characters, generated in code;
//  - CMUdict grapheme-to-phoneme (models/data/g2p_data.h): letters -> phonemes (words of the target
//    vocabulary), every listed pronunciation a reference; split 90/5/5 by unique word with the
//    fixed seed 0 whatever the training seed, so every model is scored on the same words;
//  - FreeDict German -> English (models/data/freedict_data.h): words -> words, lowercased, with
//    punctuation split off as tokens (normalize_for_translation), all English alternatives as
//    references.
#pragma once

#include <cstdint>
#include <string>

#include "models/sequence/seq2seq_task.h"

namespace minidl::models {

// Date pairs (make_date_splits) as characters -> characters, one reference each.
Seq2SeqData date_seq2seq_data(int64_t train, int64_t valid, int64_t test, uint64_t seed);

// TaskOptions::smoke: a 60-word in-memory dictionary (no file needed); otherwise the CMUdict at
// options.data_path ("" = Debian's).
Seq2SeqData g2p_seq2seq_data(const TaskOptions& options);
// A G2P task: this data, wer/per metrics, every pronunciation a training pair, a few example
// words. The caller sets make_model and the training defaults.
Seq2SeqConfig g2p_task_config(const std::string& name);

// Lowercase (ASCII letters and the German umlauts) with the punctuation . , ; : ! ? " ( ) split
// off as separate tokens and whitespace collapsed: "Er kam, sah." -> "er kam , sah ."
std::string normalize_for_translation(const std::string& text);
// TaskOptions::smoke: a few in-memory pairs; otherwise FreeDict's pairs (options.data_path =
// the .dict.dz file, "" = Debian's) with at most max_words tokens a side; valid and test keep
// their first 2,000 pairs.
Seq2SeqData freedict_seq2seq_data(const TaskOptions& options, int64_t max_words);
// A German -> English task: this data, BLEU, word vocabularies keeping tokens seen 5 times.
Seq2SeqConfig translation_task_config(const std::string& name, int64_t max_words);

}  // namespace minidl::models
