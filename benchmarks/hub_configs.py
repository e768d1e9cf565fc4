"""Small keras_hub backbones, built offline from configs (keras-hub 0.32)."""

import zlib

import numpy as np

SEQ = 8
VOCAB = 100
BATCH = 2


# ---------------------------------------------------------------------------
# Decoder-only language models
# ---------------------------------------------------------------------------


def _llama():
    from keras_hub.models import LlamaBackbone

    return LlamaBackbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                         num_key_value_heads=2, hidden_dim=16, intermediate_dim=32)


def _llama_untied():
    from keras_hub.models import LlamaBackbone

    return LlamaBackbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                         num_key_value_heads=2, hidden_dim=16, intermediate_dim=32,
                         tie_word_embeddings=False)


def _llama3():
    from keras_hub.models import Llama3Backbone

    return Llama3Backbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                          num_key_value_heads=2, hidden_dim=16, intermediate_dim=32)


def _mistral():
    from keras_hub.models import MistralBackbone

    return MistralBackbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                           num_key_value_heads=2, hidden_dim=16, intermediate_dim=32,
                           sliding_window=4)


def _mixtral():
    from keras_hub.models import MixtralBackbone

    return MixtralBackbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                           num_key_value_heads=2, hidden_dim=16, intermediate_dim=32,
                           num_experts=2, top_k=2, sliding_window=4)


def _gemma():
    from keras_hub.models import GemmaBackbone

    return GemmaBackbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                         num_key_value_heads=1, hidden_dim=16, intermediate_dim=32,
                         head_dim=4)


def _gemma2():
    from keras_hub.models import GemmaBackbone

    return GemmaBackbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                         num_key_value_heads=2, hidden_dim=16, intermediate_dim=32,
                         head_dim=4, query_head_dim_normalize=False,
                         use_post_ffw_norm=True, use_post_attention_norm=True,
                         attention_logit_soft_cap=50.0, final_logit_soft_cap=30.0,
                         use_sliding_window_attention=True, sliding_window_size=4)


def _gemma3():
    from keras_hub.models import Gemma3Backbone

    return Gemma3Backbone(vocabulary_size=VOCAB, image_size=16, num_layers=2,
                          num_query_heads=2, num_key_value_heads=1, hidden_dim=16,
                          intermediate_dim=32, head_dim=8, use_post_ffw_norm=True,
                          use_post_attention_norm=True,
                          use_sliding_window_attention=True, sliding_window_size=4)


def _gemma3_vision():
    from keras_hub.models import Gemma3Backbone
    from keras_hub.src.models.gemma3.gemma3_vision_encoder import Gemma3VisionEncoder

    vision = Gemma3VisionEncoder(image_size=16, patch_size=4, pool_size=2, num_layers=2,
                                 num_heads=2, hidden_dim=8, intermediate_dim=16,
                                 output_dim=16)
    return Gemma3Backbone(vocabulary_size=VOCAB, image_size=16, num_layers=2,
                          num_query_heads=2, num_key_value_heads=1, hidden_dim=16,
                          intermediate_dim=32, head_dim=8, use_post_ffw_norm=True,
                          use_post_attention_norm=True, vision_encoder=vision)


def _gemma3n():
    from keras_hub.models import Gemma3nBackbone

    return Gemma3nBackbone(text_vocab_size=VOCAB, text_hidden_size=16, num_hidden_layers=2,
                           pad_token_id=0, num_attention_heads=2, num_key_value_heads=1,
                           head_dim=8, intermediate_size=[32, 32],
                           hidden_activation="gelu_approximate",
                           layer_types=["sliding_attention", "full_attention"],
                           sliding_window=4, rope_theta=10000.0,
                           max_position_embeddings=SEQ, vocab_size_per_layer_input=VOCAB,
                           hidden_size_per_layer_input=4, altup_num_inputs=2,
                           laurel_rank=2)


def _gemma4():
    from keras_hub.models import Gemma4Backbone

    return Gemma4Backbone(vocabulary_size=VOCAB, image_size=16, num_layers=2,
                          num_query_heads=2, num_key_value_heads=1, hidden_dim=16,
                          intermediate_dim=32, head_dim=8,
                          use_sliding_window_attention=True, sliding_window_size=4,
                          sliding_window_pattern=2)


def _gemma4_moe():
    from keras_hub.models import Gemma4Backbone

    return Gemma4Backbone(vocabulary_size=VOCAB, image_size=16, num_layers=2,
                          num_query_heads=2, num_key_value_heads=1, hidden_dim=16,
                          intermediate_dim=32, head_dim=8,
                          use_sliding_window_attention=True, sliding_window_size=4,
                          sliding_window_pattern=2, enable_moe_block=True, num_experts=4,
                          expert_intermediate_dim=8, num_experts_per_token=2)


def _gemma4_vision():
    from keras_hub.models import Gemma4Backbone
    from keras_hub.src.models.gemma4.gemma4_vision_encoder import Gemma4VisionEncoder

    vision = Gemma4VisionEncoder(image_size=16, patch_size=4, pool_size=2, num_layers=2,
                                 num_heads=2, head_dim=4, num_key_value_heads=2,
                                 hidden_dim=8, intermediate_dim=16, output_dim=16)
    return Gemma4Backbone(vocabulary_size=VOCAB, image_size=16, num_layers=2,
                          num_query_heads=2, num_key_value_heads=1, hidden_dim=16,
                          intermediate_dim=32, head_dim=8,
                          use_sliding_window_attention=True, sliding_window_size=4,
                          sliding_window_pattern=2, hidden_size_per_layer_input=4,
                          vocab_size_per_layer_input=VOCAB, vision_encoder=vision)


def _gemma4_audio():
    from keras_hub.models import Gemma4Backbone
    from keras_hub.src.models.gemma4.gemma4_audio_encoder import Gemma4AudioEncoder

    audio = Gemma4AudioEncoder(input_feat_size=8, hidden_size=16, num_heads=2, num_layers=2,
                               chunk_size=4, context_left=5, context_right=0,
                               sscp_conv_channels=(4, 2), sscp_kernel_sizes=((3, 3), (3, 3)),
                               sscp_stride_sizes=((2, 2), (2, 2)), output_proj_dims=None,
                               output_dim=16)
    return Gemma4Backbone(vocabulary_size=VOCAB, image_size=16, num_layers=2,
                          num_query_heads=2, num_key_value_heads=1, hidden_dim=16,
                          intermediate_dim=32, head_dim=8,
                          use_sliding_window_attention=True, sliding_window_size=4,
                          sliding_window_pattern=2, audio_encoder=audio,
                          num_audio_tokens_per_clip=4)


def _gemma3n_multimodal():
    from keras_hub.models import Gemma3nBackbone, MobileNetV5Backbone
    from keras_hub.src.models.gemma3n.gemma3n_audio_encoder import Gemma3nAudioEncoder
    from keras_hub.src.models.mobilenetv5.mobilenetv5_builder import (
        convert_arch_def_to_stackwise,
    )

    vision = MobileNetV5Backbone(**convert_arch_def_to_stackwise([["er_r1_k3_s1_e1_c8"]]),
                                 num_features=8, image_shape=(32, 32, 3), use_msfa=False)
    audio = Gemma3nAudioEncoder(hidden_size=8, input_feat_size=16,
                                sscp_conv_channel_size=[2, 4],
                                sscp_conv_kernel_size=[(1, 1), (1, 1)],
                                sscp_conv_stride_size=[(2, 2), (2, 2)],
                                sscp_conv_group_norm_eps=1e-5, num_hidden_layers=2,
                                rms_norm_eps=1e-6, gradient_clipping=1.0,
                                residual_weight=0.5, num_attention_heads=2,
                                attention_chunk_size=2, num_attention_context_right=1,
                                num_attention_context_left=1, attention_logit_cap=50.0,
                                conv_kernel_size=3, reduction_factor=1)
    return Gemma3nBackbone(text_vocab_size=VOCAB, text_hidden_size=16, num_hidden_layers=2,
                           pad_token_id=0, num_attention_heads=2, num_key_value_heads=1,
                           head_dim=8, intermediate_size=[32, 32],
                           hidden_activation="gelu_approximate",
                           layer_types=["sliding_attention", "full_attention"],
                           sliding_window=4, rope_theta=10000.0,
                           max_position_embeddings=SEQ, vocab_size_per_layer_input=VOCAB,
                           hidden_size_per_layer_input=4, altup_num_inputs=2,
                           laurel_rank=2, vision_encoder_config=vision.get_config(),
                           vision_hidden_size=8, audio_encoder_config=audio.get_config(),
                           audio_hidden_size=8)


def _pali_gemma():
    from keras_hub.models import PaliGemmaBackbone

    return PaliGemmaBackbone(vocabulary_size=VOCAB, image_size=16, num_layers=2,
                             num_query_heads=2, num_key_value_heads=1, hidden_dim=16,
                             intermediate_dim=32, head_dim=8, vit_patch_size=4,
                             vit_num_heads=2, vit_hidden_dim=16, vit_num_layers=2,
                             vit_intermediate_dim=32)


def _qwen():
    from keras_hub.models import QwenBackbone

    return QwenBackbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                        num_key_value_heads=2, hidden_dim=16, intermediate_dim=32)


def _qwen3():
    from keras_hub.models import Qwen3Backbone

    return Qwen3Backbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                         num_key_value_heads=2, head_dim=4, hidden_dim=16,
                         intermediate_dim=32)


def _qwen_moe():
    from keras_hub.models import QwenMoeBackbone

    return QwenMoeBackbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                           num_key_value_heads=2, hidden_dim=16, intermediate_dim=32,
                           moe_intermediate_dim=8, shared_expert_intermediate_dim=16,
                           num_experts=4, top_k=2)


def _qwen_moe_dense():
    from keras_hub.models import QwenMoeBackbone

    # QwenMoeBackbone does not pass `layer_index` to its decoder layers (all
    # are layer 0), so `mlp_only_layers=[0]` makes every layer a dense MLP.
    return QwenMoeBackbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                           num_key_value_heads=2, hidden_dim=16, intermediate_dim=32,
                           moe_intermediate_dim=8, shared_expert_intermediate_dim=16,
                           num_experts=4, top_k=2, mlp_only_layers=[0])


def _qwen3_moe():
    from keras_hub.models import Qwen3MoeBackbone

    return Qwen3MoeBackbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                            num_key_value_heads=2, hidden_dim=16, intermediate_dim=32,
                            head_dim=4, moe_intermediate_dim=8, num_experts=4, top_k=2,
                            mlp_only_layers=[1])


def _qwen3_5():
    from keras_hub.models import Qwen3_5Backbone

    return Qwen3_5Backbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                           num_key_value_heads=2, head_dim=8, hidden_dim=16,
                           intermediate_dim=32,
                           layer_types=["linear_attention", "full_attention"],
                           linear_num_key_heads=2, linear_num_value_heads=4,
                           linear_key_head_dim=4, linear_value_head_dim=4,
                           linear_conv_kernel_dim=4)


def _qwen3_5_moe():
    from keras_hub.models import Qwen3_5MoeBackbone

    return Qwen3_5MoeBackbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                              num_key_value_heads=2, head_dim=8, hidden_dim=16,
                              moe_intermediate_dim=8, shared_expert_intermediate_size=8,
                              num_experts=4, top_k=2,
                              layer_types=["linear_attention", "full_attention"],
                              linear_num_key_heads=2, linear_num_value_heads=4,
                              linear_key_head_dim=4, linear_value_head_dim=4,
                              linear_conv_kernel_dim=4)


def _qwen3_5_vision():
    from keras_hub.models import Qwen3_5Backbone
    from keras_hub.src.models.qwen3_5.qwen3_5_vision_encoder import Qwen3_5VisionEncoder

    vision = Qwen3_5VisionEncoder(depth=2, hidden_size=16, num_heads=2, intermediate_size=32,
                                  in_channels=3, patch_size=4, temporal_patch_size=2,
                                  spatial_merge_size=2, out_hidden_size=16,
                                  num_position_embeddings=64)
    return Qwen3_5Backbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                           num_key_value_heads=2, head_dim=8, hidden_dim=16,
                           intermediate_dim=32,
                           layer_types=["linear_attention", "full_attention"],
                           linear_num_key_heads=2, linear_num_value_heads=4,
                           linear_key_head_dim=4, linear_value_head_dim=4,
                           linear_conv_kernel_dim=4, vision_encoder=vision,
                           mrope_section=[1, 1, 1])


def _phi3():
    from keras_hub.models import Phi3Backbone

    return Phi3Backbone(vocabulary_size=VOCAB, num_layers=2, hidden_dim=16,
                        intermediate_dim=32, num_query_heads=4, num_key_value_heads=2)


def _gpt2():
    from keras_hub.models import GPT2Backbone

    return GPT2Backbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16,
                        intermediate_dim=32, max_sequence_length=SEQ)


def _gpt_neo_x():
    from keras_hub.models import GPTNeoXBackbone

    return GPTNeoXBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16,
                           intermediate_dim=32, max_sequence_length=SEQ)


def _gpt_oss():
    from keras_hub.models import GptOssBackbone

    return GptOssBackbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4,
                          num_key_value_heads=2, hidden_dim=16, intermediate_dim=8,
                          num_experts=2, top_k=2, sliding_window=4)


def _falcon():
    from keras_hub.models import FalconBackbone

    return FalconBackbone(vocabulary_size=VOCAB, num_layers=2, num_attention_heads=4,
                          hidden_dim=16, intermediate_dim=32)


def _bloom():
    from keras_hub.models import BloomBackbone

    return BloomBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=4, hidden_dim=16,
                         intermediate_dim=32)


def _opt():
    from keras_hub.models import OPTBackbone

    return OPTBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16,
                       intermediate_dim=32, max_sequence_length=SEQ)


def _smollm3():
    from keras_hub.models import SmolLM3Backbone

    return SmolLM3Backbone(vocabulary_size=VOCAB, hidden_dim=16, intermediate_dim=32,
                           num_layers=2, num_attention_heads=4, num_key_value_heads=2,
                           attention_bias=False, attention_dropout=0.0,
                           rope_layer_enabled_list=[True, False],
                           layer_types=["attention", "attention"], mlp_bias=False,
                           layer_norm_epsilon=1e-5, max_position_embeddings=32,
                           rope_theta=10000.0, partial_rotary_factor=1.0)


def _rwkv7():
    from keras_hub.models import RWKV7Backbone

    return RWKV7Backbone(hidden_size=16, head_size=4, num_layers=2, vocabulary_size=VOCAB,
                         intermediate_dim=32, gate_lora=8, mv_lora=8, aaa_lora=8,
                         decay_lora=8)


# ---------------------------------------------------------------------------
# Encoder-only language models
# ---------------------------------------------------------------------------


def _bert():
    from keras_hub.models import BertBackbone

    return BertBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16,
                        intermediate_dim=32, max_sequence_length=SEQ)


def _distil_bert():
    from keras_hub.models import DistilBertBackbone

    return DistilBertBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2,
                              hidden_dim=16, intermediate_dim=32, max_sequence_length=SEQ)


def _roberta():
    from keras_hub.models import RobertaBackbone

    return RobertaBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16,
                           intermediate_dim=32, max_sequence_length=SEQ)


def _xlm_roberta():
    from keras_hub.models import XLMRobertaBackbone

    return XLMRobertaBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2,
                              hidden_dim=16, intermediate_dim=32, max_sequence_length=SEQ)


def _albert():
    from keras_hub.models import AlbertBackbone

    return AlbertBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, embedding_dim=8,
                          hidden_dim=16, intermediate_dim=32, max_sequence_length=SEQ)


def _electra():
    from keras_hub.models import ElectraBackbone

    return ElectraBackbone(vocab_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16,
                           embedding_dim=8, intermediate_dim=32, max_sequence_length=SEQ)


def _deberta_v3():
    from keras_hub.models import DebertaV3Backbone

    return DebertaV3Backbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2,
                             hidden_dim=16, intermediate_dim=32, max_sequence_length=SEQ,
                             bucket_size=4)


def _esm():
    from keras_hub.models import ESMBackbone

    return ESMBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16,
                       intermediate_dim=32, max_sequence_length=SEQ)


def _esm_abs():
    from keras_hub.models import ESMBackbone

    return ESMBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16,
                       intermediate_dim=32, max_sequence_length=SEQ + 2,
                       position_embedding_type="absolute", use_pre_layer_norm=True)


def _f_net():
    from keras_hub.models import FNetBackbone

    return FNetBackbone(vocabulary_size=VOCAB, num_layers=2, hidden_dim=16,
                        intermediate_dim=32, max_sequence_length=SEQ)


def _roformer_v2():
    from keras_hub.models import RoformerV2Backbone

    return RoformerV2Backbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2,
                              hidden_dim=16, intermediate_dim=32, head_size=8)


def _xlnet():
    from keras_hub.models import XLNetBackbone

    return XLNetBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16,
                         intermediate_dim=32)


# ---------------------------------------------------------------------------
# Encoder-decoder models
# ---------------------------------------------------------------------------


def _t5():
    from keras_hub.models import T5Backbone

    return T5Backbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16,
                      intermediate_dim=32, key_value_dim=8)


def _t5_untied():
    from keras_hub.models import T5Backbone

    return T5Backbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16,
                      intermediate_dim=32, use_gated_activation=False,
                      tie_embedding_weights=False)


def _bart():
    from keras_hub.models import BartBackbone

    return BartBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16,
                        intermediate_dim=32, max_sequence_length=SEQ)


def _whisper():
    from keras_hub.models import WhisperBackbone

    return WhisperBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16,
                           intermediate_dim=32, num_mels=8, max_encoder_sequence_length=16,
                           max_decoder_sequence_length=SEQ)


def _moonshine():
    from keras_hub.models import MoonshineBackbone

    return MoonshineBackbone(vocabulary_size=VOCAB, filter_dim=16, encoder_num_layers=2,
                             decoder_num_layers=2, hidden_dim=16, intermediate_dim=32,
                             encoder_num_heads=2, decoder_num_heads=2,
                             feedforward_expansion_factor=2,
                             max_position_embeddings=64)


def _t5gemma():
    from keras_hub.models import T5GemmaBackbone

    return T5GemmaBackbone(vocabulary_size=VOCAB, encoder_hidden_dim=16,
                           encoder_intermediate_dim=32, encoder_num_layers=2,
                           encoder_num_attention_heads=2, encoder_num_key_value_heads=1,
                           encoder_head_dim=8,
                           encoder_layer_types=["sliding_attention", "full_attention"],
                           decoder_hidden_dim=16, decoder_intermediate_dim=32,
                           decoder_num_layers=2, decoder_num_attention_heads=2,
                           decoder_num_key_value_heads=1, decoder_head_dim=8,
                           decoder_layer_types=["sliding_attention", "full_attention"],
                           sliding_window=4, cross_attention_hidden_size=16)


def _t5gemma2():
    from keras_hub.models import T5Gemma2Backbone

    return T5Gemma2Backbone(vocabulary_size=VOCAB, encoder_hidden_dim=16,
                            encoder_intermediate_dim=32, encoder_num_layers=2,
                            encoder_num_attention_heads=2, encoder_num_key_value_heads=1,
                            encoder_head_dim=8,
                            encoder_layer_types=["sliding_attention", "full_attention"],
                            decoder_hidden_dim=16, decoder_intermediate_dim=32,
                            decoder_num_layers=2, decoder_num_attention_heads=2,
                            decoder_num_key_value_heads=1, decoder_head_dim=8,
                            decoder_layer_types=["sliding_attention", "full_attention"],
                            sliding_window=4, cross_attention_hidden_size=16)


def _edrec():
    from keras_hub.models import EdRecBackbone

    return EdRecBackbone(vocab_size=VOCAB, num_layers_enc=2, num_layers_dec=2,
                         hidden_dim=16, intermediate_dim=32, num_heads=2)


# ---------------------------------------------------------------------------
# Vision transformers and multimodal encoders
# ---------------------------------------------------------------------------


def _vit():
    from keras_hub.models import ViTBackbone

    return ViTBackbone(image_shape=(32, 32, 3), patch_size=8, num_layers=2, num_heads=2,
                       hidden_dim=16, mlp_dim=32)


def _deit():
    from keras_hub.models import DeiTBackbone

    return DeiTBackbone(image_shape=(32, 32, 3), patch_size=8, num_layers=2, num_heads=2,
                        hidden_dim=16, intermediate_dim=32)


def _dinov2():
    from keras_hub.models import DINOV2Backbone

    return DINOV2Backbone(patch_size=14, num_layers=2, hidden_dim=16, num_heads=2,
                          intermediate_dim=32, image_shape=(28, 28, 3),
                          position_embedding_shape=(28, 28, 3))


def _dinov2_swiglu():
    from keras_hub.models import DINOV2Backbone

    return DINOV2Backbone(patch_size=14, num_layers=2, hidden_dim=16, num_heads=2,
                          intermediate_dim=32, num_register_tokens=2, use_swiglu_ffn=True,
                          image_shape=(28, 28, 3), position_embedding_shape=(28, 28, 3),
                          apply_layernorm=True)


def _dinov3():
    from keras_hub.models import DINOV3Backbone

    return DINOV3Backbone(patch_size=16, num_layers=2, hidden_dim=16, num_heads=2,
                          intermediate_dim=32, num_register_tokens=2,
                          image_shape=(32, 32, 3))


def _dinov3_gated():
    from keras_hub.models import DINOV3Backbone

    return DINOV3Backbone(patch_size=16, num_layers=2, hidden_dim=16, num_heads=2,
                          intermediate_dim=32, num_register_tokens=2, use_gated_mlp=True,
                          hidden_activation="silu", image_shape=(32, 32, 3),
                          apply_layernorm=True)


def _vit_det():
    from keras_hub.models import ViTDetBackbone

    return ViTDetBackbone(hidden_size=16, num_layers=2, intermediate_dim=32, num_heads=2,
                          global_attention_layer_indices=[1], image_shape=(32, 32, 3),
                          patch_size=4, num_output_channels=8, window_size=4)


def _clip_vision():
    from keras_hub.models import CLIPVisionEncoder

    return CLIPVisionEncoder(patch_size=8, hidden_dim=16, num_layers=2, num_heads=2,
                             intermediate_dim=32, image_shape=(32, 32, 3))


def _clip_text():
    from keras_hub.models import CLIPTextEncoder

    return CLIPTextEncoder(vocabulary_size=VOCAB, embedding_dim=16, hidden_dim=16,
                           num_layers=2, num_heads=2, intermediate_dim=32,
                           max_sequence_length=SEQ)


def _clip():
    from keras_hub.models import CLIPBackbone

    return CLIPBackbone(vision_encoder=_clip_vision(), text_encoder=_clip_text(),
                        projection_dim=16)


def _metaclip_2_vision():
    from keras_hub.models import MetaCLIP2VisionEncoder

    return MetaCLIP2VisionEncoder(patch_size=8, hidden_dim=16, num_layers=2, num_heads=2,
                                  intermediate_dim=32, image_shape=(32, 32, 3))


def _metaclip_2_text():
    from keras_hub.models import MetaCLIP2TextEncoder

    return MetaCLIP2TextEncoder(vocabulary_size=VOCAB, embedding_dim=16, hidden_dim=16,
                                num_layers=2, num_heads=2, intermediate_dim=32,
                                max_sequence_length=SEQ)


def _metaclip_2():
    from keras_hub.models import MetaCLIP2Backbone

    return MetaCLIP2Backbone(vision_encoder=_metaclip_2_vision(),
                             text_encoder=_metaclip_2_text(), projection_dim=16)


def _siglip_vision():
    from keras_hub.models import SigLIPVisionEncoder

    return SigLIPVisionEncoder(patch_size=8, hidden_dim=16, num_layers=2, num_heads=2,
                               intermediate_dim=32, image_shape=(32, 32, 3))


def _siglip_text():
    from keras_hub.models import SigLIPTextEncoder

    return SigLIPTextEncoder(vocabulary_size=VOCAB, embedding_dim=16, hidden_dim=16,
                             num_layers=2, num_heads=2, intermediate_dim=32,
                             max_sequence_length=SEQ)


def _siglip():
    from keras_hub.models import SigLIPBackbone

    return SigLIPBackbone(vision_encoder=_siglip_vision(), text_encoder=_siglip_text())


def _blip2():
    from keras_hub.models import BLIP2Backbone
    from keras_hub.src.models.blip2.blip2_custom_opt import BLIP2CustomOPT
    from keras_hub.src.models.blip2.blip2_qformer import BLIP2QFormer
    from keras_hub.src.models.blip2.blip2_vision_encoder import BLIP2VisionEncoder

    vision = BLIP2VisionEncoder(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                hidden_dim=16, intermediate_dim=32, use_patch_bias=True,
                                use_class_token=True, use_mha_bias=True, use_mlp_bias=True,
                                dropout_rate=0.0, layer_norm_epsilon=1e-6,
                                initializer_range=0.02)
    qformer = BLIP2QFormer(num_query_tokens=2, num_layers=2, num_heads=2, hidden_dim=16,
                           intermediate_dim=32, vision_dim=16, cross_attention_frequency=1,
                           dropout=0.0, layer_norm_epsilon=1e-6)
    language = BLIP2CustomOPT(vocabulary_size=VOCAB, num_layers=2, num_heads=2,
                              hidden_dim=16, intermediate_dim=32, num_query_tokens=2,
                              qformer_hidden_dim=16, max_sequence_length=16, dropout=0.0,
                              language_projection=None)
    return BLIP2Backbone(vision_encoder=vision, qformer=qformer, language_model=language)


def _video_prism():
    from keras_hub.models import VideoPrismBackbone

    return VideoPrismBackbone(num_frames=2, patch_size=8, hidden_dim=16,
                              intermediate_dim=32, num_heads=2, num_spatial_layers=2,
                              num_temporal_layers=2, num_auxiliary_layers=0,
                              image_shape=(32, 32, 3))


def _video_prism_text():
    from keras_hub.models import VideoPrismBackbone

    return VideoPrismBackbone(num_frames=2, patch_size=8, hidden_dim=16,
                              intermediate_dim=32, num_heads=2, num_spatial_layers=2,
                              num_temporal_layers=2, num_auxiliary_layers=1,
                              vocabulary_size=VOCAB, num_text_layers=2,
                              image_shape=(32, 32, 3))


def _parseq():
    from keras_hub.models import PARSeqBackbone, ViTBackbone

    encoder = ViTBackbone(image_shape=(16, 32, 3), patch_size=(4, 8), num_layers=2,
                          num_heads=2, hidden_dim=16, mlp_dim=32, use_class_token=False)
    return PARSeqBackbone(image_encoder=encoder, vocabulary_size=VOCAB,
                          max_label_length=SEQ - 1, decoder_hidden_dim=16,
                          num_decoder_layers=2, num_decoder_heads=2, decoder_mlp_dim=32,
                          dropout_rate=0.0, attention_dropout=0.0)


def _swin():
    from keras_hub.models import SwinTransformerBackbone

    return SwinTransformerBackbone(image_shape=(32, 32, 3), embed_dim=16, depths=(2, 2),
                                   num_heads=(2, 4), window_size=4, drop_path=0.0)


def _mit():
    from keras_hub.models import MiTBackbone

    return MiTBackbone(layerwise_depths=[2, 2], num_layers=2, layerwise_num_heads=[1, 2],
                       layerwise_sr_ratios=[4, 2], max_drop_path_rate=0.0,
                       layerwise_patch_sizes=[7, 3], layerwise_strides=[4, 2],
                       image_shape=(32, 32, 3), hidden_dims=[8, 16])


def _segformer():
    from keras_hub.models import SegFormerBackbone

    return SegFormerBackbone(image_encoder=_mit(), projection_filters=16)


def _depth_anything():
    from keras_hub.models import DepthAnythingBackbone, DINOV2Backbone

    encoder = DINOV2Backbone(patch_size=14, num_layers=4, hidden_dim=16, num_heads=2,
                             intermediate_dim=32, image_shape=(112, 112, 3),
                             position_embedding_shape=(112, 112, 3),
                             apply_layernorm=True)
    return DepthAnythingBackbone(image_encoder=encoder, reassemble_factors=[4, 2, 1, 0.5],
                                 neck_hidden_dims=[8, 8, 16, 16], fusion_hidden_dim=16,
                                 head_hidden_dim=8, head_in_index=-1,
                                 feature_keys=["stage1", "stage2", "stage3", "stage4"])


def _sam():
    from keras_hub.models import SAMBackbone, ViTDetBackbone
    from keras_hub.src.models.sam.sam_mask_decoder import SAMMaskDecoder
    from keras_hub.src.models.sam.sam_prompt_encoder import SAMPromptEncoder

    encoder = ViTDetBackbone(hidden_size=16, num_layers=2, intermediate_dim=32, num_heads=2,
                             global_attention_layer_indices=[1], patch_size=4,
                             num_output_channels=8, window_size=4, image_shape=(32, 32, 3))
    prompt = SAMPromptEncoder(hidden_size=8, image_embedding_size=(8, 8),
                              input_image_size=(32, 32), mask_in_channels=16)
    mask = SAMMaskDecoder(num_layers=2, hidden_size=8, intermediate_dim=16, num_heads=2,
                          embedding_dim=8, num_multimask_outputs=3, iou_head_depth=2,
                          iou_head_hidden_dim=8)
    backbone = SAMBackbone(image_encoder=encoder, prompt_encoder=prompt, mask_decoder=mask)
    # The backbone's graph does not call the mask decoder (SAMImageSegmenter
    # does): build it so that its weights exist.
    backbone.mask_decoder.build()
    return backbone


def _sam3():
    from keras_hub.models import SAM3PromptableConceptBackbone
    from keras_hub.src.models.sam3.sam3_detr_decoder import SAM3DetrDecoder
    from keras_hub.src.models.sam3.sam3_detr_encoder import SAM3DetrEncoder
    from keras_hub.src.models.sam3.sam3_geometry_encoder import SAM3GeometryEncoder
    from keras_hub.src.models.sam3.sam3_mask_decoder import SAM3MaskDecoder
    from keras_hub.src.models.sam3.sam3_text_encoder import SAM3TextEncoder
    from keras_hub.src.models.sam3.sam3_vision_encoder import SAM3VisionEncoder

    return SAM3PromptableConceptBackbone(
        vision_encoder=SAM3VisionEncoder(
            image_shape=(28, 28, 3), patch_size=14, num_layers=2, hidden_dim=16,
            intermediate_dim=32, num_heads=2, fpn_hidden_dim=16,
            fpn_scale_factors=[4.0, 2.0, 1.0, 0.5], pretrain_image_shape=(42, 42, 3),
            window_size=2, global_attn_indexes=[1, 2]),
        text_encoder=SAM3TextEncoder(vocabulary_size=VOCAB, embedding_dim=16, hidden_dim=16,
                                     num_layers=2, num_heads=2, intermediate_dim=32),
        geometry_encoder=SAM3GeometryEncoder(num_layers=2, hidden_dim=16,
                                             intermediate_dim=32, num_heads=2, roi_size=7),
        detr_encoder=SAM3DetrEncoder(num_layers=2, hidden_dim=16, intermediate_dim=32,
                                     num_heads=2),
        detr_decoder=SAM3DetrDecoder(image_shape=(28, 28, 3), patch_size=14, num_layers=2,
                                     hidden_dim=16, intermediate_dim=32, num_heads=2,
                                     num_queries=4),
        mask_decoder=SAM3MaskDecoder(num_upsampling_stages=3, hidden_dim=16, num_heads=2),
    )


def _mmdit():
    from keras_hub.src.models.stable_diffusion_3.mmdit import MMDiT

    return MMDiT(patch_size=2, hidden_dim=16, num_layers=2, num_heads=2, position_size=8,
                 latent_shape=(8, 8, 4), context_shape=(SEQ, 16),
                 pooled_projection_shape=(16,))


def _mmdit_qk_norm_dual():
    from keras_hub.src.models.stable_diffusion_3.mmdit import MMDiT

    return MMDiT(patch_size=2, hidden_dim=16, num_layers=2, num_heads=2, position_size=8,
                 latent_shape=(8, 8, 4), context_shape=(SEQ, 16),
                 pooled_projection_shape=(16,), qk_norm="rms_norm",
                 dual_attention_indices=(0,))


def _vae():
    from keras_hub.src.models.vae.vae_backbone import VAEBackbone

    # GroupNormalization uses 32 groups: 32 filters is the minimum.
    return VAEBackbone(encoder_num_filters=[32, 32], encoder_num_blocks=[1, 1],
                       decoder_num_filters=[32, 32], decoder_num_blocks=[1, 1],
                       sampler_method="mode", sample_channels=4, output_channels=3)


def _stable_diffusion_3():
    from keras_hub.models import CLIPTextEncoder, StableDiffusion3Backbone
    from keras_hub.src.models.vae.vae_backbone import VAEBackbone

    vae = VAEBackbone(encoder_num_filters=[32, 32, 32, 32],
                      encoder_num_blocks=[1, 1, 1, 1],
                      decoder_num_filters=[32, 32, 32, 32],
                      decoder_num_blocks=[1, 1, 1, 1],
                      sampler_method="mode", name="vae")
    clip_l = CLIPTextEncoder(VOCAB, 16, 16, 2, 2, 32, "quick_gelu", -2,
                             max_sequence_length=SEQ, name="clip_l")
    clip_g = CLIPTextEncoder(VOCAB, 32, 32, 2, 2, 64, "gelu", -2,
                             max_sequence_length=SEQ, name="clip_g")
    return StableDiffusion3Backbone(mmdit_patch_size=2, mmdit_hidden_dim=16,
                                    mmdit_num_layers=2, mmdit_num_heads=2,
                                    mmdit_position_size=8, mmdit_qk_norm=None,
                                    mmdit_dual_attention_indices=None, vae=vae,
                                    clip_l=clip_l, clip_g=clip_g, image_shape=(32, 32, 3))


def _flux():
    from keras_hub.models import FluxBackbone

    return FluxBackbone(input_channels=16, hidden_size=32, mlp_ratio=2.0, num_heads=2,
                        depth=2, depth_single_blocks=2, axes_dim=[4, 6, 6], theta=10_000,
                        use_bias=True, guidance_embed=True, image_shape=(SEQ, 16),
                        text_shape=(SEQ, 16), image_ids_shape=(SEQ, 3),
                        text_ids_shape=(SEQ, 3), y_shape=(16,))


def _rqvae():
    from keras_hub.src.models.rqvae.rqvae_backbone import RQVAEBackbone

    return RQVAEBackbone(input_dim=16, encoder_layer_dims=[32, 16], output_dim=8,
                         decoder_layer_dims=[16, 32], num_embeddings=4, num_quantizers=2)


# ---------------------------------------------------------------------------
# Vision CNNs and detection / segmentation backbones
# ---------------------------------------------------------------------------


def _resnet():
    from keras_hub.models import ResNetBackbone

    # ResNet requires 64 filters in the first stage (and, for basic blocks, in
    # the stem: the first stage has no projection shortcut).
    return ResNetBackbone(input_conv_filters=[64], input_conv_kernel_sizes=[3],
                          stackwise_num_filters=[64, 16], stackwise_num_blocks=[2, 2],
                          stackwise_num_strides=[1, 2], block_type="basic_block",
                          image_shape=(32, 32, 3))


def _resnet_bottleneck():
    from keras_hub.models import ResNetBackbone

    return ResNetBackbone(input_conv_filters=[8], input_conv_kernel_sizes=[3],
                          stackwise_num_filters=[64, 16], stackwise_num_blocks=[2, 2],
                          stackwise_num_strides=[1, 2], block_type="bottleneck_block",
                          use_pre_activation=True, image_shape=(32, 32, 3))


def _resnet_fpn_encoder(image_shape=(None, None, 3)):
    from keras_hub.models import ResNetBackbone

    return ResNetBackbone(input_conv_filters=[64], input_conv_kernel_sizes=[3],
                          stackwise_num_filters=[64, 8, 16, 16],
                          stackwise_num_blocks=[1, 1, 1, 1],
                          stackwise_num_strides=[1, 2, 2, 2], block_type="basic_block",
                          image_shape=image_shape)


def _cspnet():
    from keras_hub.models import CSPNetBackbone

    return CSPNetBackbone(stem_filters=8, stem_kernel_size=3, stem_strides=1,
                          stackwise_depth=[1, 2], stackwise_strides=2,
                          stackwise_num_filters=[8, 16], block_type="dark_block",
                          stage_type="csp", down_growth=True, bottle_ratio=(0.5, 1.0),
                          block_ratio=(1.0, 0.5), expand_ratio=(2.0, 1.0),
                          stem_padding="same", image_shape=(32, 32, 3))


def _efficientnet():
    from keras_hub.models import EfficientNetBackbone

    return EfficientNetBackbone(
        stackwise_width_coefficients=[1.0, 1.0], stackwise_depth_coefficients=[1.0, 1.0],
        stackwise_kernel_sizes=[3, 3], stackwise_num_repeats=[1, 2],
        stackwise_input_filters=[8, 8], stackwise_output_filters=[8, 16],
        stackwise_expansion_ratios=[1, 4], stackwise_squeeze_and_excite_ratios=[0.0, 0.25],
        stackwise_strides=[1, 2], stackwise_block_types=["fused", "unfused"],
        stackwise_force_input_filters=[0, 0], stackwise_nores_option=[False, False],
        input_shape=(32, 32, 3), num_features=32)


def _mobilenet():
    from keras_hub.models import MobileNetBackbone

    return MobileNetBackbone(
        stackwise_expansion=[[16, 24], [32, 32]], stackwise_num_blocks=[2, 2],
        stackwise_num_filters=[[8, 8], [16, 16]], stackwise_kernel_size=[[3, 3], [5, 5]],
        stackwise_num_strides=[[2, 1], [2, 1]],
        stackwise_se_ratio=[[None, None], [0.25, 0.25]],
        stackwise_activation=[["relu", "relu"], ["hard_swish", "hard_swish"], ["hard_swish"]],
        stackwise_padding=[[1, 1], [2, 2]], output_num_filters=32, depthwise_filters=8,
        depthwise_stride=2, depthwise_residual=False, last_layer_filter=32,
        squeeze_and_excite=0.5, input_num_filters=8, image_shape=(32, 32, 3))


def _mobilenetv5():
    from keras_hub.models import MobileNetV5Backbone

    return MobileNetV5Backbone(
        stackwise_block_types=[["er"], ["uir", "uir"]], stackwise_num_blocks=[1, 2],
        stackwise_num_filters=[[8], [16, 16]], stackwise_strides=[[2], [2, 1]],
        stackwise_act_layers=[["relu"], ["relu", "relu"]],
        stackwise_exp_ratios=[[2.0], [2.0, 2.0]], stackwise_se_ratios=[[0.0], [0.0, 0.0]],
        stackwise_dw_kernel_sizes=[[0], [3, 3]],
        stackwise_dw_start_kernel_sizes=[[0], [0, 0]],
        stackwise_dw_end_kernel_sizes=[[0], [0, 0]],
        stackwise_exp_kernel_sizes=[[3], [0, 0]], stackwise_pw_kernel_sizes=[[1], [0, 0]],
        stackwise_num_heads=[[0], [0, 0]], stackwise_key_dims=[[0], [0, 0]],
        stackwise_value_dims=[[0], [0, 0]], stackwise_kv_strides=[[0], [0, 0]],
        stackwise_use_cpe=[[False], [False, False]], stem_size=8, num_features=32,
        use_msfa=False, image_shape=(32, 32, 3))


def _mobilenetv5_mqa():
    from keras_hub.models import MobileNetV5Backbone

    return MobileNetV5Backbone(
        stackwise_block_types=[["er"], ["uir", "mqa"]], stackwise_num_blocks=[1, 2],
        stackwise_num_filters=[[8], [16, 16]], stackwise_strides=[[2], [2, 1]],
        stackwise_act_layers=[["relu"], ["relu", "relu"]],
        stackwise_exp_ratios=[[2.0], [2.0, 2.0]], stackwise_se_ratios=[[0.0], [0.0, 0.0]],
        stackwise_dw_kernel_sizes=[[0], [3, 3]],
        stackwise_dw_start_kernel_sizes=[[0], [0, 0]],
        stackwise_dw_end_kernel_sizes=[[0], [0, 0]],
        stackwise_exp_kernel_sizes=[[3], [0, 0]], stackwise_pw_kernel_sizes=[[1], [0, 0]],
        stackwise_num_heads=[[0], [0, 2]], stackwise_key_dims=[[0], [0, 8]],
        stackwise_value_dims=[[0], [0, 8]], stackwise_kv_strides=[[0], [0, 2]],
        stackwise_use_cpe=[[False], [False, False]], stem_size=8, num_features=32,
        use_msfa=True, msfa_indices=(-2, -1), msfa_output_resolution=4,
        image_shape=(32, 32, 3))


def _densenet():
    from keras_hub.models import DenseNetBackbone

    return DenseNetBackbone(stackwise_num_repeats=[1, 2], growth_rate=4,
                            image_shape=(32, 32, 3))


def _vgg():
    from keras_hub.models import VGGBackbone

    return VGGBackbone(stackwise_num_repeats=[1, 2], stackwise_num_filters=[8, 16],
                       image_shape=(32, 32, 3))


def _xception():
    from keras_hub.models import XceptionBackbone

    # The pooled middle block needs a channel change (its residual then gets the
    # strided pointwise conv).
    return XceptionBackbone(stackwise_conv_filters=[[8, 16], [32, 32], [32, 32]],
                            stackwise_pooling=[False, True, False],
                            image_shape=(32, 32, 3))


def _hgnetv2():
    return _hgnetv2_encoder(image_shape=(32, 32, 3), out_features=None)


def _hgnetv2_encoder(image_shape=(None, None, 3), out_features=("stage1", "stage2")):
    from keras_hub.models import HGNetV2Backbone

    return HGNetV2Backbone(stem_channels=[3, 8, 8],
                           stackwise_stage_filters=[[8, 8, 16, 1, 1, 3],
                                                    [16, 8, 32, 1, 1, 3]],
                           apply_downsample=[False, True],
                           use_lightweight_conv_block=[False, True], depths=[1, 1],
                           hidden_sizes=[16, 32], embedding_size=8,
                           use_learnable_affine_block=True, hidden_act="relu",
                           image_shape=image_shape,
                           out_features=None if out_features is None else list(out_features))


def _retinanet():
    from keras_hub.models import RetinaNetBackbone

    # Not tiny (~1.9M weights): the feature pyramid has a fixed 256 filters.
    return RetinaNetBackbone(image_encoder=_resnet_fpn_encoder(), min_level=3, max_level=5,
                             use_p5=False, image_shape=(32, 32, 3))


def _deeplab_v3():
    from keras_hub.models import DeepLabV3Backbone

    # ~0.5M weights: the spatial pyramid pooling has a fixed 256 filters.
    return DeepLabV3Backbone(image_encoder=_resnet_fpn_encoder(),
                             spatial_pyramid_pooling_key="P4", upsampling_size=4,
                             dilation_rates=[2, 4], low_level_feature_key="P2",
                             projection_filters=8, image_shape=(32, 32, 3))


def _basnet():
    from keras_hub.models import BASNetBackbone

    # Not tiny (~48.6M weights) and no config makes it smaller: projection_filters
    # feeds the encoder's first ResNet block, whose input is pinned to the stem
    # width, which ResNet pins to 64; BASNet's bridge then uses 8 x 64 = 512
    # filters (3x3 convs).
    return BASNetBackbone(image_encoder=_resnet_fpn_encoder(), num_classes=1,
                          image_shape=(32, 32, 3), projection_filters=64)


def _d_fine():
    from keras_hub.models import DFineBackbone

    return DFineBackbone(
        backbone=_hgnetv2_encoder(), decoder_in_channels=[16, 16], encoder_hidden_dim=16,
        num_labels=4, num_denoising=0, learn_initial_query=False, num_queries=4,
        anchor_image_size=(32, 32), feat_strides=[4, 8], num_feature_levels=2,
        hidden_dim=16, encoder_in_channels=[16, 32], encode_proj_layers=[1],
        num_attention_heads=2, encoder_ffn_dim=32, num_encoder_layers=1,
        hidden_expansion=0.5, depth_multiplier=0.5, eval_idx=-1, num_decoder_layers=2,
        decoder_attention_heads=2, decoder_ffn_dim=32, decoder_n_points=[2, 2],
        lqe_hidden_dim=16, num_lqe_layers=2, out_features=["stage1", "stage2"],
        image_shape=(32, 32, 3), seed=0)


_BUILDERS = {
    # decoder-only LMs (and their multimodal variants)
    "llama": _llama,
    "llama_untied": _llama_untied,
    "llama3": _llama3,
    "mistral": _mistral,
    "mixtral": _mixtral,
    "gemma": _gemma,
    "gemma2": _gemma2,
    "gemma3": _gemma3,
    "gemma3_vision": _gemma3_vision,
    "gemma3n": _gemma3n,
    "gemma3n_multimodal": _gemma3n_multimodal,
    "gemma4": _gemma4,
    "gemma4_moe": _gemma4_moe,
    "gemma4_vision": _gemma4_vision,
    "gemma4_audio": _gemma4_audio,
    "pali_gemma": _pali_gemma,
    "qwen": _qwen,
    "qwen3": _qwen3,
    "qwen_moe": _qwen_moe,
    "qwen_moe_dense": _qwen_moe_dense,
    "qwen3_moe": _qwen3_moe,
    "qwen3_5": _qwen3_5,
    "qwen3_5_moe": _qwen3_5_moe,
    "qwen3_5_vision": _qwen3_5_vision,
    "phi3": _phi3,
    "gpt2": _gpt2,
    "gpt_neo_x": _gpt_neo_x,
    "gpt_oss": _gpt_oss,
    "falcon": _falcon,
    "bloom": _bloom,
    "opt": _opt,
    "smollm3": _smollm3,
    "rwkv7": _rwkv7,
    # encoder-only LMs
    "bert": _bert,
    "distil_bert": _distil_bert,
    "roberta": _roberta,
    "xlm_roberta": _xlm_roberta,
    "albert": _albert,
    "electra": _electra,
    "deberta_v3": _deberta_v3,
    "esm": _esm,
    "esm_abs": _esm_abs,
    "f_net": _f_net,
    "roformer_v2": _roformer_v2,
    "xlnet": _xlnet,
    # encoder-decoder
    "t5": _t5,
    "t5_untied": _t5_untied,
    "bart": _bart,
    "whisper": _whisper,
    "moonshine": _moonshine,
    "t5gemma": _t5gemma,
    "t5gemma2": _t5gemma2,
    "edrec": _edrec,
    # vision transformers, multimodal, generative
    "vit": _vit,
    "deit": _deit,
    "dinov2": _dinov2,
    "dinov2_swiglu": _dinov2_swiglu,
    "dinov3": _dinov3,
    "dinov3_gated": _dinov3_gated,
    "vit_det": _vit_det,
    "clip_vision": _clip_vision,
    "clip_text": _clip_text,
    "clip": _clip,
    "metaclip_2_vision": _metaclip_2_vision,
    "metaclip_2_text": _metaclip_2_text,
    "metaclip_2": _metaclip_2,
    "siglip_vision": _siglip_vision,
    "siglip_text": _siglip_text,
    "siglip": _siglip,
    "blip2": _blip2,
    "video_prism": _video_prism,
    "video_prism_text": _video_prism_text,
    "parseq": _parseq,
    "swin_transformer": _swin,
    "mit": _mit,
    "segformer": _segformer,
    "depth_anything": _depth_anything,
    "sam": _sam,
    "sam3": _sam3,
    "mmdit": _mmdit,
    "mmdit_qk_norm_dual": _mmdit_qk_norm_dual,
    "vae": _vae,
    "stable_diffusion_3": _stable_diffusion_3,
    "flux": _flux,
    "rqvae": _rqvae,
    # CNNs and dense-prediction heads
    "resnet": _resnet,
    "resnet_bottleneck": _resnet_bottleneck,
    "cspnet": _cspnet,
    "efficientnet": _efficientnet,
    "mobilenet": _mobilenet,
    "mobilenetv5": _mobilenetv5,
    "mobilenetv5_mqa": _mobilenetv5_mqa,
    "densenet": _densenet,
    "vgg": _vgg,
    "xception": _xception,
    "hgnetv2": _hgnetv2,
    "retinanet": _retinanet,
    "deeplab_v3": _deeplab_v3,
    "basnet": _basnet,
    "d_fine": _d_fine,
}

# Builders that failed in keras-hub 0.32.0 with these configs (see the bottom).
def hub_backbones() -> dict:
    """name -> zero-arg callable returning a built, tiny keras_hub backbone.

    Every keras_hub 0.32 backbone class, some in several configurations (tied
    and untied heads, gated and plain FFNs, dense and MoE layers, with and
    without vision/audio towers). Nothing is downloaded.
    """
    return dict(_BUILDERS)


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


def _rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def _ids(rng, length=SEQ, vocab=VOCAB, batch=BATCH):
    return rng.integers(1, vocab, size=(batch, length)).astype("int32")


def _ones(length=SEQ, batch=BATCH):
    return np.ones((batch, length), dtype="int32")


def _image(rng, h=32, w=32, c=3, batch=BATCH):
    return rng.uniform(0.0, 1.0, size=(batch, h, w, c)).astype("float32")


def _lm(rng):
    return {"token_ids": _ids(rng), "padding_mask": _ones()}


def _seq2seq(rng):
    return {"encoder_token_ids": _ids(rng), "encoder_padding_mask": _ones(),
            "decoder_token_ids": _ids(rng), "decoder_padding_mask": _ones()}


def _image_of(backbone, rng, default=32):
    shape = backbone.inputs[0].shape
    h = shape[1] or default
    w = shape[2] or default
    return _image(rng, h, w, shape[3] or 3)


def sample_inputs(name, backbone):
    """A valid batch of 2 for the backbone `hub_backbones()[name]()`."""
    rng = _rng(name)
    if name in ("llama", "llama_untied", "llama3", "mistral", "mixtral", "gemma", "gemma2",
                "gemma3", "qwen", "qwen3", "qwen_moe", "qwen_moe_dense",
                "qwen3_moe", "qwen3_5", "qwen3_5_moe", "phi3", "gpt2", "gpt_neo_x",
                "gpt_oss", "falcon", "bloom", "opt", "smollm3", "rwkv7", "distil_bert",
                "roberta", "xlm_roberta", "deberta_v3"):
        return _lm(rng)
    if name in ("gemma4", "gemma4_moe"):
        return {"token_ids": _ids(rng), "padding_mask": _ones(),
                "position_ids": np.tile(np.arange(SEQ, dtype="int32"), (BATCH, 1))}
    if name == "gemma4_vision":
        # 16x16 image, patch 4 -> 16 patches of 4*4*3, pool 2 -> 4 soft tokens.
        length, n_vis = 16, 4
        mask = np.zeros((BATCH, length), bool)
        mask[:, 2:2 + n_vis] = True
        grid = np.stack(np.meshgrid(np.arange(4), np.arange(4), indexing="ij"), -1)
        return {"token_ids": _ids(rng, length), "padding_mask": _ones(length),
                "position_ids": np.tile(np.arange(length, dtype="int32"), (BATCH, 1)),
                "pixel_values": rng.uniform(size=(BATCH, 1, 16, 48)).astype("float32"),
                "pixel_position_ids": np.tile(grid.reshape(1, 1, 16, 2),
                                              (BATCH, 1, 1, 1)).astype("int32"),
                "vision_mask": mask,
                "vision_indices": np.tile(np.arange(2, 2 + n_vis, dtype="int32"),
                                          (BATCH, 1))}
    if name == "gemma4_audio":
        return {"token_ids": _ids(rng), "padding_mask": _ones(),
                "position_ids": np.tile(np.arange(SEQ, dtype="int32"), (BATCH, 1)),
                "audio_mel": rng.uniform(size=(BATCH, 1, 16, 8)).astype("float32"),
                "audio_mel_mask": np.ones((BATCH, 1, 16), "int32"),
                "audio_indices": np.tile(np.arange(1, 5, dtype="int32"), (BATCH, 1)),
                "audio_mask": np.pad(np.ones((BATCH, 4), "int32"), ((0, 0), (1, SEQ - 5)))}
    if name == "gemma3n_multimodal":
        return {"token_ids": _ids(rng), "padding_mask": _ones().astype(bool),
                "images": _image(rng)[:, None],
                "input_features": rng.uniform(size=(BATCH, 1, 8, 16)).astype("float32"),
                "input_features_mask": np.zeros((BATCH, 1, 8), bool)}
    if name == "qwen3_5_vision":
        # One 16x16 image (2 frames): a 4x4 patch grid, merged 2x2 -> 4 tokens.
        return {"token_ids": _ids(rng), "padding_mask": _ones(),
                "pixel_values": rng.normal(size=(BATCH, 16, 2, 4, 4, 3)).astype("float32"),
                "image_grid_thw": np.tile(np.array([[[1, 4, 4]]], "int32"), (BATCH, 1, 1)),
                "vision_indices": np.tile(np.arange(2, 6, dtype="int32"), (BATCH, 1))}
    if name == "gemma3n":
        return {"token_ids": _ids(rng), "padding_mask": _ones().astype(bool)}
    if name in ("bert", "albert", "electra", "xlnet"):
        return {"token_ids": _ids(rng), "segment_ids": np.zeros((BATCH, SEQ), "int32"),
                "padding_mask": _ones()}
    if name in ("f_net", "roformer_v2"):
        return {"token_ids": _ids(rng), "segment_ids": np.zeros((BATCH, SEQ), "int32")}
    if name in ("esm", "esm_abs"):
        return {"token_ids": _ids(rng)}
    if name in ("t5", "t5_untied", "bart", "t5gemma", "t5gemma2", "edrec"):
        return _seq2seq(rng)
    if name == "whisper":
        return {"encoder_features": rng.normal(size=(BATCH, 16, 8)).astype("float32"),
                "decoder_token_ids": _ids(rng), "decoder_padding_mask": _ones()}
    if name == "moonshine":
        n = 1600
        return {"encoder_input_values": rng.normal(size=(BATCH, n, 1)).astype("float32"),
                "encoder_padding_mask": np.ones((BATCH, n), bool),
                "decoder_token_ids": _ids(rng),
                "decoder_padding_mask": np.ones((BATCH, SEQ), bool)}
    if name == "gemma3_vision":
        # 16x16 image, patch 4, pool 2 -> 4 vision tokens per image, 1 image.
        length, n_vis = 16, 4
        mask = np.zeros((BATCH, length), bool)
        mask[:, 2:2 + n_vis] = True
        return {"token_ids": _ids(rng, length), "padding_mask": _ones(length),
                "images": _image(rng, 16, 16)[:, None],
                "vision_mask": mask,
                "vision_indices": np.tile(np.arange(2, 2 + n_vis, dtype="int32"),
                                          (BATCH, 1))}
    if name == "pali_gemma":
        return {"token_ids": _ids(rng), "padding_mask": _ones(),
                "response_mask": np.zeros((BATCH, SEQ), "int32"),
                "images": _image(rng, 16, 16)}
    if name in ("clip_text", "metaclip_2_text", "siglip_text"):
        return {"token_ids": _ids(rng)}
    if name in ("clip", "metaclip_2", "siglip"):
        return {"images": _image(rng), "token_ids": _ids(rng)}
    if name == "blip2":
        return {"images": _image(rng), "token_ids": _ids(rng),
                "padding_mask": np.ones((BATCH, SEQ), bool)}
    if name == "video_prism":
        return _image(rng, batch=BATCH * 2).reshape(BATCH, 2, 32, 32, 3)
    if name == "video_prism_text":
        return {"pixel_values": _image(rng, batch=BATCH * 2).reshape(BATCH, 2, 32, 32, 3),
                "token_ids": _ids(rng), "padding_mask": _ones()}
    if name == "parseq":
        return {"images": _image(rng, 16, 32), "token_ids": _ids(rng, SEQ),
                "padding_mask": _ones(SEQ)}
    if name in ("dinov2", "dinov2_swiglu"):
        return {"images": _image(rng, 28, 28)}
    if name in ("dinov3", "dinov3_gated"):
        return {"pixel_values": _image(rng)}
    if name == "sam":
        return {"images": _image(rng), "points": rng.uniform(0, 32, (BATCH, 1, 2)).astype(
            "float32"), "labels": np.ones((BATCH, 1), "float32"),
            "boxes": rng.uniform(0, 32, (BATCH, 1, 2, 2)).astype("float32"),
            "masks": np.zeros((BATCH, 0, 32, 32, 1), "float32")}
    if name == "sam3":
        return {"pixel_values": _image(rng, 28, 28), "token_ids": _ids(rng, 32),
                "padding_mask": np.ones((BATCH, 32), bool),
                "boxes": rng.uniform(0, 1, (BATCH, 1, 5)).astype("float32"),
                "box_labels": np.ones((BATCH, 1), "int32")}
    if name in ("mmdit", "mmdit_qk_norm_dual"):
        return {"latent": rng.normal(size=(BATCH, 8, 8, 4)).astype("float32"),
                "context": rng.normal(size=(BATCH, SEQ, 16)).astype("float32"),
                "pooled_projection": rng.normal(size=(BATCH, 16)).astype("float32"),
                "timestep": np.ones((BATCH, 1), "float32")}
    if name == "stable_diffusion_3":
        return {"images": _image(rng),
                "latents": rng.normal(size=(BATCH, 4, 4, 16)).astype("float32"),
                "clip_l_token_ids": _ids(rng), "clip_l_negative_token_ids": _ids(rng),
                "clip_g_token_ids": _ids(rng), "clip_g_negative_token_ids": _ids(rng),
                "num_steps": np.ones((BATCH,), "int32"),
                "guidance_scale": np.ones((BATCH,), "float32")}
    if name == "flux":
        return {"image": rng.normal(size=(BATCH, SEQ, 16)).astype("float32"),
                "image_ids": np.ones((BATCH, SEQ, 3), "float32"),
                "text": rng.normal(size=(BATCH, SEQ, 16)).astype("float32"),
                "text_ids": np.ones((BATCH, SEQ, 3), "float32"),
                "y": rng.normal(size=(BATCH, 16)).astype("float32"),
                "timesteps": np.ones((BATCH,), "float32"),
                "guidance": np.ones((BATCH,), "float32")}
    if name == "rqvae":
        return rng.normal(size=(BATCH, 16)).astype("float32")
    # Plain image backbones: a single image input (a dict when the backbone's
    # input is one, e.g. CLIP's vision encoder takes {"images": ...}).
    image = _image_of(backbone, rng)
    if isinstance(backbone.input, dict):
        (key,) = backbone.input
        return {key: image}
    return image


# ---------------------------------------------------------------------------
# Builders that fail in keras-hub 0.32.0 (left out of hub_backbones()): none.
# Every Backbone subclass of keras-hub 0.32.0 (83 concrete classes: the 84
# subclasses found by importing every keras_hub.src.models module, minus the
# abstract FeaturePyramidBackbone) is built by at least one builder above
# (alone or nested in another backbone), and every builder's forward pass on
# sample_inputs() is finite.
#
# Errors met with smaller configs, and what the configs above do about them:
# - ResNetBackbone: "The first element of `stackwise_num_filters` must be 64";
#   with basic blocks the stem must be 64 wide too ("Inputs have incompatible
#   shapes. Received shapes (8, 8, 8) and (8, 8, 64)"): the first stage is 64.
#   This also pins BASNet's projection_filters to 64 (its bridge then has
#   8 x 64 = 512 filters: ~48.6M weights, the one large model here).
# - RetinaNetBackbone / DeepLabV3Backbone: fixed 256-filter FPN / ASPP
#   (~1.9M / ~0.5M weights).
# - VAEBackbone (also inside StableDiffusion3Backbone): "Number of groups (32)
#   cannot be more than the number of channels (8)": 32 filters minimum.
# - XceptionBackbone: "Inputs have incompatible shapes. Received shapes
#   (7, 7, 16) and (13, 13, 16)" when the pooled middle block keeps its
#   channel count (no strided residual conv): the middle block widens.
# - DepthAnythingBackbone: "Computed output size would be zero or negative"
#   with a 4x4 patch grid (reassemble factor 0.5 then a valid 3x3 conv): a
#   112x112 image (8x8 patches); its DINOv2 encoder needs 4 layers (4 stages).
# - Qwen3_5Backbone / Qwen3_5MoeBackbone: "Rotary dimension must be even, got
#   1" with head_dim 4 and partial_rotary_factor 0.25: head_dim 8.
# - Gemma4Backbone needs a "position_ids" input; SAMBackbone's graph does not
#   call its mask decoder, which the builder builds explicitly.
# - QwenMoeBackbone does not pass `layer_index` to its layers, so
#   mlp_only_layers only acts through [0] (all layers dense: qwen_moe_dense).
# ---------------------------------------------------------------------------
