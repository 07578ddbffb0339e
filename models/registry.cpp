// Every model of the tutorials, by name (see models/registry.h). To add one: include its header
// and add its line {name, tutorial, dataset, factory} to the list.
#include "models/registry.h"

#include <sstream>

#include "core/error.h"
#include "models/captioning/captioning_task.h"
#include "models/graph/node_classification_task.h"
#include "models/language/bilstm_attention_classifier.h"
#include "models/language/char_rnn_lm.h"
#include "models/language/gpt_lm.h"
#include "models/language/transformer_classifier.h"
#include "models/multimodal/fashion_vqa_task.h"
#include "models/rl/cartpole_dqn_task.h"
#include "models/sequence/bahdanau_seq2seq.h"
#include "models/sequence/bilstm_seq2seq.h"
#include "models/sequence/dot_attention_seq2seq.h"
#include "models/sequence/translation_seq2seq.h"
#include "models/vision/image_classification_task.h"

namespace minidl::models {

const std::vector<TaskInfo>& registered_tasks() {
  static const std::vector<TaskInfo> tasks = {
      {"bahdanau-dates", "Bahdanau attention encoder-decoder (Keras NMT-with-attention tutorial)",
       "date normalization: human-written dates -> ISO 8601, generated in code",
       make_bahdanau_dates_task},
      {"dot-attention-dates",
       "LSTM encoder-decoder with a dot-product attention layer (Keras \"From Theory to Code\")",
       "date normalization: human-written dates -> ISO 8601, generated in code",
       make_dot_attention_dates_task},
      {"bahdanau-g2p", "Bahdanau attention encoder-decoder (Keras NMT-with-attention tutorial)",
       "CMUdict grapheme-to-phoneme (Debian pocketsphinx-en-us), split 90/5/5 by word",
       make_bahdanau_g2p_task},
      {"translation-g2p",
       "attention decoder with LSTMCell, multi-layer LSTM encoder (PyTorch seq2seq translation "
       "tutorial)",
       "CMUdict grapheme-to-phoneme (Debian pocketsphinx-en-us), split 90/5/5 by word",
       make_translation_g2p_task},
      {"translation-deu-eng",
       "attention decoder with LSTMCell, multi-layer LSTM encoder (PyTorch seq2seq translation "
       "tutorial)",
       "German -> English phrase pairs from Debian dict-freedict-deu-eng (BLEU)",
       make_translation_deu_eng_task},
      {"bilstm-g2p",
       "bidirectional-LSTM encoder-decoder with pack_padded_sequence and Luong attention",
       "CMUdict grapheme-to-phoneme (Debian pocketsphinx-en-us), split 90/5/5 by word",
       make_bilstm_g2p_task},
      {"bilstm-attention-langid",
       "character BiLSTM with attention pooling as a word classifier (BiLSTMAttentionNER tutorial)",
       "language identification of words: eight Debian word lists (wamerican ... wswedish)",
       make_bilstm_attention_langid_task},
      {"transformer-langid",
       "character Transformer encoder with masked max pooling (TransformerEncoderBlock tutorial)",
       "language identification of words: eight Debian word lists (wamerican ... wswedish)",
       make_transformer_langid_task},
      {"char-rnn-fortunes",
       "SimpleRNN (tanh nn::RNN) character language model (char-RNN tutorials)",
       "English prose: Debian's fortunes (/usr/share/games/fortunes), split by entry",
       make_char_rnn_fortunes_task},
      {"gpt-fortunes", "GPT-style causal Transformer character language model (minGPT / nanoGPT)",
       "English prose: Debian's fortunes (/usr/share/games/fortunes), split by entry",
       make_gpt_fortunes_task},
      {"cnn-fashion-mnist",
       "CNN (conv 32 - pool - conv 64 - pool - Linear 128 - Linear 10, the W5 architecture)",
       "Fashion-MNIST (Debian dataset-fashion-mnist), 55,000 / 5,000 / 10,000, random crop + flip",
       make_cnn_fashion_mnist_task},
      {"vit-fashion-mnist",
       "Vision Transformer: Conv2d 4x4 patch embedding, class token, learned positions, 6 "
       "pre-norm Transformer encoder layers (d 64, 4 heads), classifier on the class token",
       "Fashion-MNIST (Debian dataset-fashion-mnist), 55,000 / 5,000 / 10,000, random crop + flip",
       make_vit_fashion_mnist_task},
      {"attention-dqn-cartpole",
       "attention Q-network (each state variable a token: per-variable + identity embedding, "
       "multi-head self-attention, FFN, mean pooling, Linear Q head) trained by double DQN "
       "(replay buffer, target network, epsilon-greedy, Huber loss)",
       "CartPole (gym's v0/v1 dynamics and rules, simulated in code); 500-step training "
       "episodes; evaluation: 100 greedy episodes of v0 and of v1",
       rl::make_attention_dqn_cartpole_task},
      {"gat-karate",
       "graph attention network (GAT paper / pyGAT tutorial): 2 GraphAttention layers, 8 heads of "
       "8, ELU, dropout 0.6; sparse edge-list form",
       "Zachary's karate club (1977; edge list in code), one labelled member per faction",
       make_gat_karate_task},
      {"gat-karate-dense", "the same GAT in its dense adjacency-masked form",
       "Zachary's karate club (1977; edge list in code), one labelled member per faction",
       make_gat_karate_dense_task},
      {"gat-debian-packages",
       "graph attention network (GAT paper / pyGAT tutorial): 2 GraphAttention layers, 8 heads of "
       "8, ELU, dropout 0.6; sparse edge-list form",
       "Debian package graph (data/debian_packages_graph.txt.gz from apt-cache dumpavail): 17 "
       "sections, description words, dependency edges; 40 labels per section",
       make_gat_debian_packages_task},
      {"mlp-debian-packages", "MLP baseline of the GAT paper (features only, no edges)",
       "Debian package graph (data/debian_packages_graph.txt.gz), the same split",
       make_mlp_debian_packages_task},
      {"multimodal-fashion-vqa",
       "multimodal attention model: LSTM over the question, CNN over the image (7x7 cells), "
       "multi-head attention from the question tokens over [text; image], classifier",
       "yes/no questions from a grammar about Fashion-MNIST images (Debian "
       "dataset-fashion-mnist), balanced so either modality alone scores 0.5",
       make_multimodal_fashion_vqa_task},
      {"multimodal-fashion-vqa-text-only",
       "ablation of multimodal-fashion-vqa: the question branch alone (no image)",
       "the same questions (balanced: 0.5 by construction)",
       make_multimodal_fashion_vqa_text_only_task},
      {"multimodal-fashion-vqa-image-only",
       "ablation of multimodal-fashion-vqa: the image branch alone (no question)",
       "the same questions (balanced: 0.5 by construction)",
       make_multimodal_fashion_vqa_image_only_task},
      {"caption-lstm-attention",
       "Show, Attend and Tell (PyTorch image-captioning tutorial): CNN encoder to a 14x14 grid of "
       "features, LSTMCell decoder fed [embedding; context], additive attention at every word",
       "56x56 mosaics of four Fashion-MNIST images captioned by their class names in reading "
       "order: 13,750 fresh training mosaics an epoch / 1,250 validation / 2,500 test",
       make_caption_lstm_attention_task},
      {"caption-dot-attention",
       "the same captioner with tanh-dot attention: query = tanh(Linear(h)), scores = dot "
       "product with the projected grid features, softmax, weighted sum",
       "56x56 mosaics of four Fashion-MNIST images captioned by their class names in reading "
       "order: 13,750 fresh training mosaics an epoch / 1,250 validation / 2,500 test",
       make_caption_dot_attention_task},
  };
  return tasks;
}

std::vector<std::string> task_names() {
  std::vector<std::string> names;
  for (const TaskInfo& info : registered_tasks()) names.push_back(info.name);
  return names;
}

const TaskInfo& find_task(const std::string& name) {
  for (const TaskInfo& info : registered_tasks())
    if (info.name == name) return info;
  std::string known;
  for (const std::string& n : task_names()) known += (known.empty() ? "" : ", ") + n;
  MINIDL_FAIL("make_task",
              "unknown model \"" << name << "\"; known: " << (known.empty() ? "(none)" : known));
}

std::unique_ptr<Task> make_task(const std::string& name) {
  std::unique_ptr<Task> task = find_task(name).make();
  MINIDL_CHECK(task != nullptr, "make_task", "the factory of \"" << name << "\" returned null");
  return task;
}

}  // namespace minidl::models
