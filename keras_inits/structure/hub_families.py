"""Role adapters for keras_hub 0.32 families (checked against keras-hub 0.32.0)."""

# Pure data: no keras_hub import. Each entry is
#   (module, class name, {attribute path: role}, part)
# or, for a block holding cross-attention,
#   (module, class name, {attribute path: role}, part, {attribute path: role})
# where the last dict holds the cross-attention projections (q, k, v, o).
#
# Conventions (checked on built instances, see the summary at the bottom):
# - module is the class's defining module (`cls.__module__`); classes match along
#   the MRO, so a subclass inherits its parent's entry (PaliGemmaDecoderBlock
#   inherits GemmaDecoderBlock's).
# - A path leads to the innermost layer whose weights all share the role: Gemma4's
#   clippable linears are addressed as `<name>.dense` (the EinsumDense inside),
#   because the wrapper also holds non-trainable clipping bounds that must not
#   be initialised as kernels.
# - Paths that a configuration does not build (optional biases, QK norms, the
#   cross-attention of T5 encoder layers, ...) are marked "optional" below; the
#   generic code skips a path that does not resolve on an instance.
# - ffn_gate / ffn_in follow each model's own naming of the two GLU branches
#   (gate_* -> ffn_gate, up/intermediate/input_* -> ffn_in). Which branch goes
#   through the activation differs: Llama-style models activate the gate, T5
#   and EdRec activate the input/up branch. A kernel holding both halves fused
#   (gate and up in one matrix) is "ffn_in".
# - part: "decoder" for causal self-attention, and for the decoder blocks of
#   encoder-decoder models whose queries attend bidirectionally (DETR-style
#   decoders of D-FINE and SAM3, SAM's two-way mask decoder, PARSeq); "encoder"
#   for bidirectional blocks. "auto:is_decoder" reads that attribute.
# - Non-block entries (part None): embeddings, class/register/mask tokens
#   ("embedding"), learned absolute or relative position tables ("position"),
#   and keras_hub's own norm classes ({"scale": "norm"}, ...). A final norm is a
#   layer of the functional backbone, which the generic code visits as a layer
#   and never looks up as an attribute of the backbone; registering the norm
#   class gives final norms (and any other instance) their role wherever they
#   sit.
# - Left out on purpose (no role in the vocabulary fits): MoE routers, shared-
#   expert gates, layer scales, adaLN / modulation projections, attention sinks,
#   per-dim scales, rotary-frequency buffers, relative-position key projections,
#   linear-attention decay/gating parameters, conv modules of conformers.
#   Listed per entry.

_M = "keras_hub.src.models."
_L = "keras_hub.src.layers.modeling."

FAMILIES = [
    # =========================================================================
    # Decoder-only language models
    # =========================================================================
    # Llama and Llama3 (Llama3Backbone builds LlamaTransformerDecoder blocks).
    (_M + "llama.llama_decoder", "LlamaTransformerDecoder", {
        "_self_attention_layer._query_dense": "q",
        "_self_attention_layer._key_dense": "k",
        "_self_attention_layer._value_dense": "v",
        "_self_attention_layer._output_dense": "o",
        "_feedforward_gate_dense": "ffn_gate",
        "_feedforward_intermediate_dense": "ffn_in",
        "_feedforward_output_dense": "ffn_out",
        "_self_attention_layernorm": "norm",
        "_feedforward_layernorm": "norm",
    }, "decoder"),
    (_M + "llama.llama_layernorm", "LlamaLayerNorm", {"scale": "norm"}, None),

    # Mistral.
    (_M + "mistral.mistral_transformer_decoder", "MistralTransformerDecoder", {
        "_self_attention_layer._query_dense": "q",
        "_self_attention_layer._key_dense": "k",
        "_self_attention_layer._value_dense": "v",
        "_self_attention_layer._output_dense": "o",
        "_feedforward_gate_dense": "ffn_gate",
        "_feedforward_intermediate_dense": "ffn_in",
        "_feedforward_output_dense": "ffn_out",
        "_self_attention_layernorm": "norm",
        "_feedforward_layernorm": "norm",
    }, "decoder"),
    (_M + "mistral.mistral_layer_norm", "MistralLayerNormalization", {"scale": "norm"}, None),

    # Mixtral (MoE). Left out: the router _sparse_moe_block._sparse_feedforward_gate_dense.
    (_M + "mixtral.mixtral_decoder", "MixtralTransformerDecoder", {
        "_self_attention_layer.query_dense": "q",
        "_self_attention_layer.key_dense": "k",
        "_self_attention_layer.value_dense": "v",
        "_self_attention_layer.output_dense": "o",
        # (num_experts, hidden, intermediate) / (num_experts, intermediate, hidden)
        "_sparse_moe_block.expert_bank._expert_feedforward_gate_dense": "ffn_gate",
        "_sparse_moe_block.expert_bank._expert_feedforward_intermediate_dense": "ffn_in",
        "_sparse_moe_block.expert_bank._expert_feedforward_output_dense": "ffn_out",
        "_self_attention_layernorm": "norm",
        "_feedforward_layernorm": "norm",
    }, "decoder"),
    (_M + "mixtral.mixtral_layer_norm", "MixtralLayerNormalization", {"scale": "norm"}, None),

    # Gemma and Gemma2 (GemmaBackbone); PaliGemmaDecoderBlock subclasses it.
    # The ffw names: x = gelu(gating_ffw(x)) * gating_ffw_2(x); ffw_linear(x).
    (_M + "gemma.gemma_decoder_block", "GemmaDecoderBlock", {
        "attention.query_dense": "q",
        "attention.key_dense": "k",
        "attention.value_dense": "v",
        "attention.output_dense": "o",
        "gating_ffw": "ffn_gate",
        "gating_ffw_2": "ffn_in",
        "ffw_linear": "ffn_out",
        "pre_attention_norm": "norm",
        "post_attention_norm": "norm",  # optional (use_post_attention_norm, Gemma2)
        "pre_ffw_norm": "norm",
        "post_ffw_norm": "norm",  # optional (use_post_ffw_norm, Gemma2)
    }, "decoder"),
    (_M + "gemma.rms_normalization", "RMSNormalization", {"scale": "norm"}, None),

    # Gemma3 text decoder.
    (_M + "gemma3.gemma3_decoder_block", "Gemma3DecoderBlock", {
        "attention.query_dense": "q",
        "attention.key_dense": "k",
        "attention.value_dense": "v",
        "attention.output_dense": "o",
        "attention.query_norm": "norm",  # optional (use_query_key_norm)
        "attention.key_norm": "norm",  # optional (use_query_key_norm)
        "gating_ffw": "ffn_gate",
        "gating_ffw_2": "ffn_in",
        "ffw_linear": "ffn_out",
        "pre_attention_norm": "norm",
        "post_attention_norm": "norm",  # optional (use_post_attention_norm)
        "pre_ffw_norm": "norm",
        "post_ffw_norm": "norm",  # optional (use_post_ffw_norm)
    }, "decoder"),
    (_M + "gemma3.gemma3_layers", "RMSNormalization", {"scale": "norm"}, None),
    # Gemma3 vision encoder (SigLIP-style ViT).
    (_M + "gemma3.gemma3_vision_encoder", "Gemma3VisionEncoderLayer", {
        "attn.query_proj": "q",
        "attn.key_proj": "k",
        "attn.value_proj": "v",
        "attn.out_proj": "o",
        "mlp_dense_1": "ffn_in",
        "mlp_dense_2": "ffn_out",
        "layer_norm_1": "norm",
        "layer_norm_2": "norm",
    }, "encoder"),
    (_M + "gemma3.gemma3_vision_encoder", "Gemma3VisionEmbedding", {
        "patch_embedding": "embedding",  # Conv2D patch projection
        "position_embedding": "position",  # keras Embedding used as a position table
    }, None),
    (_M + "gemma3.gemma3_vision_encoder", "Gemma3VisionEncoderBlock", {
        "encoder_layer_norm": "norm",
    }, None),
    # Gemma3VisionOutput: vision_soft_embedding_norm is a gemma3 RMSNormalization
    # (registered above); vision_input_projection (the projector into the text
    # space) is left out.

    # PaliGemma: the decoder block is a GemmaDecoderBlock subclass (inherits).
    (_M + "pali_gemma.pali_gemma_vit", "PaliGemmaVitEncoderBlock", {
        "attn.query_proj": "q",
        "attn.key_proj": "k",
        "attn.value_proj": "v",
        "attn.out_proj": "o",
        "mlp_dense_1": "ffn_in",
        "mlp_dense_2": "ffn_out",
        "layer_norm_1": "norm",
        "layer_norm_2": "norm",
    }, "encoder"),
    (_M + "pali_gemma.pali_gemma_vit", "PaliGemmaVitEmbeddings", {
        "patch_embedding": "embedding",  # Conv2D patch projection
        "position_embedding": "position",
    }, None),
    (_M + "pali_gemma.pali_gemma_vit", "PaliGemmaVitEncoder", {
        "encoder_layer_norm": "norm",
    }, None),

    # Gemma3n text decoder. Left out: altup (correct_output_scale, correction_coefs,
    # prediction_coefs, modality_router), laurel.linear_left / linear_right (a
    # low-rank residual branch), per_layer_input_gate, per_layer_projection.
    # attention.v_norm has no weight (scale-free).
    (_M + "gemma3n.gemma3n_text_decoder", "Gemma3nTextDecoderBlock", {
        "attention.q_proj": "q",
        "attention.k_proj": "k",
        "attention.v_proj": "v",
        "attention.o_proj": "o",
        "attention.q_norm": "norm",
        "attention.k_norm": "norm",
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_in",
        "mlp.down_proj": "ffn_out",
        "input_layernorm": "norm",
        "post_attention_layernorm": "norm",
        "pre_feedforward_layernorm": "norm",
        "post_feedforward_layernorm": "norm",
        "post_per_layer_input_norm": "norm",
        "altup.router_norm": "norm",
        "laurel.post_laurel_norm": "norm",
    }, "decoder"),
    # (with_scale=False instances hold the float 1.0 as `scale`: not a variable,
    # skipped.)
    (_M + "gemma3n.rms_normalization", "Gemma3nRMSNorm", {"scale": "norm"}, None),
    # Gemma3n audio encoder (conformer: macaron FFN, attention, light conv, FFN).
    # Left out: attention.attn.per_dim_scale, the relative-position key
    # projection attention.attn.relative_position_embedding.pos_proj, and the
    # conv module lconv1d.linear_start / depthwise_conv1d / linear_end.
    (_M + "gemma3n.gemma3n_audio_encoder", "Gemma3nAudioConformerBlock", {
        "attention.attn.q_proj": "q",
        "attention.attn.k_proj": "k",
        "attention.attn.v_proj": "v",
        "attention.post": "o",
        "ffw_layer_start.ffw_layer_1": "ffn_in",
        "ffw_layer_start.ffw_layer_2": "ffn_out",
        "ffw_layer_end.ffw_layer_1": "ffn_in",
        "ffw_layer_end.ffw_layer_2": "ffn_out",
        "ffw_layer_start.pre_layer_norm": "norm",
        "ffw_layer_start.post_layer_norm": "norm",
        "ffw_layer_end.pre_layer_norm": "norm",
        "ffw_layer_end.post_layer_norm": "norm",
        "attention.pre_attn_norm": "norm",
        "attention.post_norm": "norm",
        "lconv1d.pre_layer_norm": "norm",
        "lconv1d.conv_norm": "norm",
        "norm": "norm",
    }, "encoder"),
    (_M + "gemma3n.gemma3n_audio_layers", "Gemma3nAudioCumulativeGroupNorm",
     {"scale": "norm"}, None),
    # MobileNetV5 (Gemma3n's vision tower, a CNN) normalises with RmsNorm2d.
    (_M + "mobilenetv5.mobilenetv5_layers", "RmsNorm2d", {"gamma": "norm"}, None),

    # Gemma4 text decoder. Left out: layer_scalar (non-trainable), the MoE router
    # moe_router, moe_expert_bank.per_expert_scale, per_layer_input_gate and
    # per_layer_up_proj (per-layer input embeddings).
    (_M + "gemma4.gemma4_decoder_block", "Gemma4TextDecoderBlock", {
        "attention.query_dense": "q",
        "attention.key_dense": "k",
        "attention.value_dense": "v",  # optional (absent when attention_k_eq_v)
        "attention.output_dense": "o",
        "attention.query_norm": "norm",
        "attention.key_norm": "norm",
        "gating_ffw": "ffn_gate",
        "gating_ffw_2": "ffn_in",
        "ffw_linear": "ffn_out",
        "pre_attention_norm": "norm",
        "post_attention_norm": "norm",
        "pre_ffw_norm": "norm",
        "post_ffw_norm": "norm",
        # optional (enable_moe_block): experts (num_experts, ...)
        "moe_expert_bank.gate_proj": "ffn_gate",
        "moe_expert_bank.up_proj": "ffn_in",
        "moe_expert_bank.down_proj": "ffn_out",
        "pre_ffw_norm_moe": "norm",
        "post_ffw_norm_dense": "norm",
        "post_ffw_norm_moe_path": "norm",
        "post_per_layer_input_norm": "norm",  # optional (hidden_size_per_layer_input)
    }, "decoder"),
    (_M + "gemma4.gemma4_layers", "RMSNormalization", {"scale": "norm"}, None),
    (_M + "gemma4.gemma4_layers", "Gemma4FrozenNorm", {"scale": "norm"}, None),
    # Gemma4 vision encoder blocks (bidirectional despite the class name). The
    # projections are clippable linears: `.dense` is the EinsumDense; left out:
    # their non-trainable input_min/input_max/output_min/output_max bounds.
    (_M + "gemma4.gemma4_decoder_block", "Gemma4VisionDecoderBlock", {
        "attention.query_dense.dense": "q",
        "attention.key_dense.dense": "k",
        "attention.value_dense.dense": "v",
        "attention.output_dense.dense": "o",
        "attention.query_norm": "norm",
        "attention.key_norm": "norm",
        "gating_ffw.dense": "ffn_gate",
        "gating_ffw_2.dense": "ffn_in",
        "ffw_linear.dense": "ffn_out",
        "pre_attention_norm": "norm",
        "post_attention_norm": "norm",
        "pre_ffw_norm": "norm",
        "post_ffw_norm": "norm",
    }, "encoder"),
    (_M + "gemma4.gemma4_vision_encoder", "Gemma4VisionPatchEmbedder", {
        "input_proj": "embedding",  # Dense patch projection
        "position_embedding_table": "position",
    }, None),
    # Gemma4 audio encoder (conformer). Left out: clipping bounds of the clippable
    # linears, attention.attn.per_dim_scale, the relative-position key
    # projection attention.attn.rpe.pos_proj, the conv module lconv.linear_start /
    # depthwise_conv / linear_end.
    (_M + "gemma4.gemma4_audio_encoder", "Gemma4AudioConformerBlock", {
        "attention.attn.q_proj.dense": "q",
        "attention.attn.k_proj.dense": "k",
        "attention.attn.v_proj.dense": "v",
        "attention.out_proj.dense": "o",
        "ffw_start.ffw_1.dense": "ffn_in",
        "ffw_start.ffw_2.dense": "ffn_out",
        "ffw_end.ffw_1.dense": "ffn_in",
        "ffw_end.ffw_2.dense": "ffn_out",
        "ffw_start.pre_norm": "norm",
        "ffw_start.post_norm": "norm",
        "ffw_end.pre_norm": "norm",
        "ffw_end.post_norm": "norm",
        "attention.pre_attn_norm": "norm",
        "attention.post_norm": "norm",
        "lconv.pre_norm": "norm",
        "lconv.conv_norm": "norm",
        "norm": "norm",
    }, "encoder"),

    # Qwen (Qwen2 architecture; QwenBackbone).
    (_M + "qwen.qwen_decoder", "QwenTransformerDecoder", {
        "_self_attention_layer._query_dense": "q",
        "_self_attention_layer._key_dense": "k",
        "_self_attention_layer._value_dense": "v",
        "_self_attention_layer._output_dense": "o",
        "_feedforward_gate_dense": "ffn_gate",
        "_feedforward_intermediate_dense": "ffn_in",
        "_feedforward_output_dense": "ffn_out",
        "_self_attention_layernorm": "norm",
        "_feedforward_layernorm": "norm",
    }, "decoder"),
    (_M + "qwen.qwen_layernorm", "QwenLayerNorm", {"scale": "norm"}, None),

    # Qwen3.
    (_M + "qwen3.qwen3_decoder", "Qwen3TransformerDecoder", {
        "_self_attention_layer._query_dense": "q",
        "_self_attention_layer._key_dense": "k",
        "_self_attention_layer._value_dense": "v",
        "_self_attention_layer._output_dense": "o",
        "_self_attention_layer._query_dense_layer_norm": "norm",
        "_self_attention_layer._key_dense_layer_norm": "norm",
        "_feedforward_gate_dense": "ffn_gate",
        "_feedforward_intermediate_dense": "ffn_in",
        "_feedforward_output_dense": "ffn_out",
        "_self_attention_layernorm": "norm",
        "_feedforward_layernorm": "norm",
    }, "decoder"),
    (_M + "qwen3.qwen3_layernorm", "Qwen3LayerNorm", {"scale": "norm"}, None),

    # Qwen MoE (Qwen1.5/2-MoE). `mlp` is a QwenSparseMoeBlock, or a dense QwenMoeMLP
    # for mlp_only_layers. Left out: the router mlp._sparse_feedforward_gate_dense
    # and the shared-expert gate mlp.shared_expert_gate_dense.
    (_M + "qwen_moe.qwen_moe_decoder", "QwenMoeTransformerDecoder", {
        "_self_attention_layer.query_dense": "q",
        "_self_attention_layer.key_dense": "k",
        "_self_attention_layer.value_dense": "v",
        "_self_attention_layer._output_dense": "o",
        # sparse: experts' gate and up fused, (num_experts, hidden, 2 * moe_intermediate)
        "mlp.expert_bank._expert_feedforward_gate_dense": "ffn_in",
        "mlp.expert_bank._expert_feedforward_output_dense": "ffn_out",
        "mlp.shared_expert_dense._feedforward_gate_dense": "ffn_gate",
        "mlp.shared_expert_dense._feedforward_intermediate_dense": "ffn_in",
        "mlp.shared_expert_dense._feedforward_output_dense": "ffn_out",
        # dense (mlp_only_layers)
        "mlp._feedforward_gate_dense": "ffn_gate",
        "mlp._feedforward_intermediate_dense": "ffn_in",
        "mlp._feedforward_output_dense": "ffn_out",
        "_self_attention_layernorm": "norm",
        "_feedforward_layernorm": "norm",
    }, "decoder"),
    (_M + "qwen_moe.qwen_moe_layernorm", "QwenMoeLayerNorm", {"scale": "norm"}, None),

    # Qwen3 MoE. Left out: the router mlp._sparse_feedforward_gate_dense.
    (_M + "qwen3_moe.qwen3_moe_decoder", "Qwen3MoeTransformerDecoder", {
        "_self_attention_layer._query_dense": "q",
        "_self_attention_layer._key_dense": "k",
        "_self_attention_layer._value_dense": "v",
        "_self_attention_layer._output_dense": "o",
        "_self_attention_layer._query_dense_layer_norm": "norm",
        "_self_attention_layer._key_dense_layer_norm": "norm",
        # sparse: experts' gate and up fused, (num_experts, hidden, 2 * moe_intermediate)
        "mlp.expert_bank._expert_feedforward_gate_dense": "ffn_in",
        "mlp.expert_bank._expert_feedforward_output_dense": "ffn_out",
        # dense (mlp_only_layers): Qwen3MoeMLP
        "mlp._feedforward_gate_dense": "ffn_gate",
        "mlp._feedforward_intermediate_dense": "ffn_in",
        "mlp._feedforward_output_dense": "ffn_out",
        "_self_attention_layernorm": "norm",
        "_feedforward_layernorm": "norm",
    }, "decoder"),
    (_M + "qwen3_moe.qwen3_moe_layernorm", "Qwen3MoeLayerNorm", {"scale": "norm"}, None),

    # Qwen3.5: "full_attention" layers hold _self_attention_layer, "linear_attention"
    # layers a gated DeltaNet _linear_attn (both optional, one per layer). Left out
    # (DeltaNet): in_proj_z (output gate), in_proj_b, in_proj_a, conv1d_weight,
    # dt_bias, A_log.
    (_M + "qwen3_5.qwen3_5_decoder", "Qwen3_5TransformerDecoder", {
        "_self_attention_layer._query_dense": "q",  # query and its output gate, fused
        "_self_attention_layer._key_dense": "k",
        "_self_attention_layer._value_dense": "v",
        "_self_attention_layer._output_dense": "o",
        "_self_attention_layer._query_norm": "norm",
        "_self_attention_layer._key_norm": "norm",
        "_linear_attn.in_proj_qkv": "qkv",
        "_linear_attn.out_proj": "o",
        "_linear_attn.norm": "norm",
        "_feedforward_gate_dense": "ffn_gate",
        "_feedforward_intermediate_dense": "ffn_in",
        "_feedforward_output_dense": "ffn_out",
        "_input_layernorm": "norm",
        "_post_attention_layernorm": "norm",
    }, "decoder"),
    (_M + "qwen3_5.qwen3_5_layers", "Qwen3_5LayerNorm", {"scale": "norm"}, None),
    (_M + "qwen3_5.qwen3_5_layers", "Qwen3_5RMSNormGated", {"scale": "norm"}, None),
    # Qwen3.5 vision encoder. Qwen3_5VisionPatchMerger (norm + 2-layer projector
    # into the text space): its norm is a keras LayerNormalization, fc1/fc2 are
    # left out.
    (_M + "qwen3_5.qwen3_5_vision_encoder", "Qwen3_5VisionBlock", {
        "attn.qkv": "qkv",
        "attn.proj": "o",
        "mlp.fc1": "ffn_in",
        "mlp.fc2": "ffn_out",
        "norm1": "norm",
        "norm2": "norm",
    }, "encoder"),
    (_M + "qwen3_5.qwen3_5_vision_encoder", "Qwen3_5VisionPatchEmbed", {
        "proj": "embedding",  # Conv3D patch projection
    }, None),
    (_M + "qwen3_5.qwen3_5_vision_encoder", "Qwen3_5VisionEncoder", {
        "pos_embed": "position",  # keras Embedding used as a position table
    }, None),

    # Qwen3.5 MoE (same attention layers as Qwen3.5). Left out: the router
    # mlp._router_gate, the shared-expert gate mlp._shared_expert_gate and the
    # DeltaNet parameters listed for Qwen3.5.
    (_M + "qwen3_5_moe.qwen3_5_moe_decoder", "Qwen3_5MoeTransformerDecoder", {
        "_self_attention_layer._query_dense": "q",
        "_self_attention_layer._key_dense": "k",
        "_self_attention_layer._value_dense": "v",
        "_self_attention_layer._output_dense": "o",
        "_self_attention_layer._query_norm": "norm",
        "_self_attention_layer._key_norm": "norm",
        "_linear_attn.in_proj_qkv": "qkv",
        "_linear_attn.out_proj": "o",
        "_linear_attn.norm": "norm",
        # experts' gate and up fused, (num_experts, hidden, 2 * moe_intermediate)
        "mlp.expert_bank._expert_feedforward_gate_dense": "ffn_in",
        "mlp.expert_bank._expert_feedforward_output_dense": "ffn_out",
        "mlp.shared_expert._feedforward_gate_dense": "ffn_gate",
        "mlp.shared_expert._feedforward_intermediate_dense": "ffn_in",
        "mlp.shared_expert._feedforward_output_dense": "ffn_out",
        "_input_layernorm": "norm",
        "_post_attention_layernorm": "norm",
    }, "decoder"),

    # Phi3.
    (_M + "phi3.phi3_decoder", "Phi3Decoder", {
        "attention.query_dense": "q",
        "attention.key_dense": "k",
        "attention.value_dense": "v",
        "attention.output_dense": "o",
        "feedforward_gate_dense": "ffn_gate",
        "feedforward_intermediate_dense": "ffn_in",
        "feedforward_output_dense": "ffn_out",
        "pre_attention_layernorm": "norm",
        "post_attention_layernorm": "norm",
    }, "decoder"),
    (_M + "phi3.phi3_layernorm", "Phi3LayerNorm", {"scale": "norm"}, None),

    # GPT-NeoX: fused query/key/value.
    (_M + "gpt_neo_x.gpt_neo_x_decoder", "GPTNeoXDecoder", {
        "_self_attention_layer._qkv_dense": "qkv",
        "_self_attention_layer._output_dense": "o",
        "_feedforward_intermediate_dense": "ffn_in",
        "_feedforward_output_dense": "ffn_out",
        "_self_attention_layer_norm": "norm",
        "_feedforward_layer_norm": "norm",
    }, "decoder"),

    # GPT-OSS (MoE). Left out: the router sparse_moe_block.router and the
    # attention sinks self_attention_layer.sinks (per-head logits).
    (_M + "gpt_oss.gpt_oss_decoder", "GptOssTransformerDecoder", {
        "self_attention_layer.query_dense": "q",
        "self_attention_layer.key_dense": "k",
        "self_attention_layer.value_dense": "v",
        "self_attention_layer.output_dense": "o",
        # gate and up interleaved in one kernel (gate = [..., ::2], up = [..., 1::2])
        "sparse_moe_block.experts.gate_up_proj": "ffn_in",
        "sparse_moe_block.experts.gate_up_proj_bias": "ffn_in",
        "sparse_moe_block.experts.down_proj": "ffn_out",
        "sparse_moe_block.experts.down_proj_bias": "ffn_out",
        "input_layernorm": "norm",
        "post_attention_layernorm": "norm",
    }, "decoder"),
    (_M + "gpt_oss.gpt_oss_layer_norm", "GptOssLayerNormalization", {"scale": "norm"}, None),

    # Falcon.
    (_M + "falcon.falcon_transformer_decoder", "FalconTransformerDecoder", {
        "attention_layer.query_dense": "q",
        "attention_layer.key_dense": "k",
        "attention_layer.value_dense": "v",
        "attention_layer.output_dense": "o",
        "dense_h_to_4h": "ffn_in",
        "dense_4h_to_h": "ffn_out",
        "input_layernorm": "norm",
        "post_attention_layernorm": "norm",
    }, "decoder"),

    # Bloom (ALiBi: no position weights).
    (_M + "bloom.bloom_decoder", "BloomDecoder", {
        "_self_attention_layer._query_dense": "q",
        "_self_attention_layer._key_dense": "k",
        "_self_attention_layer._value_dense": "v",
        "_self_attention_layer._output_dense": "o",
        "_mlp_intermediate_dense": "ffn_in",
        "_mlp_output_dense": "ffn_out",
        "_pre_attention_layernorm": "norm",
        "_post_attention_layernorm": "norm",
    }, "decoder"),

    # SmolLM3. Left out: self_attn.rotary_embedding.inv_freq / original_inv_freq
    # (non-trainable rotary-frequency buffers).
    (_M + "smollm3.smollm3_layers", "SmolLM3DecoderLayer", {
        "self_attn.q_proj": "q",
        "self_attn.k_proj": "k",
        "self_attn.v_proj": "v",
        "self_attn.o_proj": "o",
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_in",
        "mlp.down_proj": "ffn_out",
        "input_layernorm": "norm",
        "post_attention_layernorm": "norm",
    }, "decoder"),

    # RWKV-7 (attention-free: the time mix plays the attention's part, the channel
    # mix the FFN's). receptance/key/value/output of the time mix are mapped to
    # q/k/v/o. Left out: the token-shift mixing vectors x_r, x_w, x_k, x_v, x_a,
    # x_g, the low-rank decay/in-context-rate/value/gate factors w0, w1, w2, a0,
    # a1, a2, v0, v1, v2 (v* only after layer 0), g1, g2, k_k, k_a, r_k, and the
    # channel mix's ffn.x_k.
    (_M + "rwkv7.rwkv7_layer", "RWKV7_Block", {
        "att.receptance": "q",
        "att.key": "k",
        "att.value": "v",
        "att.output_layer": "o",
        "ffn.key": "ffn_in",
        "ffn.value": "ffn_out",
        "ln0": "norm",  # optional (layer 0 only: the embedding norm)
        "ln1": "norm",
        "ln2": "norm",
        "att.ln_x": "norm",  # GroupNormalization over heads
    }, "decoder"),

    # GPT2 and OPT build keras_hub.layers.TransformerDecoder blocks, handled by the
    # generic code (as is BLIP2's OPT language model).

    # =========================================================================
    # Encoder-only language models
    # =========================================================================
    # BERT, DistilBERT, RoBERTa, XLM-RoBERTa, ALBERT, ELECTRA build
    # keras_hub.layers.TransformerEncoder blocks: handled by the generic code.

    # DeBERTa-v3.
    (_M + "deberta_v3.disentangled_attention_encoder", "DisentangledAttentionEncoder", {
        "_self_attention_layer._query_dense": "q",
        "_self_attention_layer._key_dense": "k",
        "_self_attention_layer._value_dense": "v",
        "_self_attention_layer._output_dense": "o",
        "_feedforward_intermediate_dense": "ffn_in",
        "_feedforward_output_dense": "ffn_out",
        "_self_attention_layer_norm": "norm",
        "_feedforward_layer_norm": "norm",
    }, "encoder"),
    (_M + "deberta_v3.relative_embedding", "RelativeEmbedding", {
        "rel_embeddings": "position",  # the shared relative-position table
        "layer_norm": "norm",
    }, None),

    # ESM.
    (_M + "esm.esm_encoder", "ESMEncoder", {
        "attention_layer.q_dense": "q",
        "attention_layer.k_dense": "k",
        "attention_layer.v_dense": "v",
        "attention_layer.o_dense": "o",
        "feedforward_intermediate_dense": "ffn_in",
        "feedforward_output_dense": "ffn_out",
        "attention_norm": "norm",
        "feedforward_norm": "norm",
    }, "encoder"),

    # F-Net: Fourier token mixing, no attention; FFN only.
    (_L + "f_net_encoder", "FNetEncoder", {
        "_intermediate_dense": "ffn_in",
        "_output_dense": "ffn_out",
        "_mixing_layer_norm": "norm",
        "_output_layer_norm": "norm",
    }, "encoder"),

    # RoFormer-v2.
    (_M + "roformer_v2.roformer_v2_encoder", "RoformerV2Encoder", {
        "attention_layer.q_dense": "q",
        "attention_layer.k_dense": "k",
        "attention_layer.v_dense": "v",
        "attention_layer.o_dense": "o",
        "feedforward_intermediate_dense": "ffn_in",
        "feedforward_output_dense": "ffn_out",
        "attention_norm": "norm",
        "feedforward_norm": "norm",
    }, "encoder"),
    (_M + "roformer_v2.roformer_v2_attention", "RoformerNorm", {"scale": "norm"}, None),

    # XLNet (two-stream relative attention). Left out: the relative-position key
    # projection relative_attention._encoding_dense, the biases
    # content_attention_bias / positional_attention_bias / segment_attention_bias
    # and segment_encoding.
    (_M + "xlnet.xlnet_encoder", "XLNetEncoder", {
        "relative_attention._query_dense": "q",
        "relative_attention._key_dense": "k",
        "relative_attention._value_dense": "v",
        "relative_attention._output_dense": "o",
        "feedforward_intermediate_dense": "ffn_in",
        "feedforward_output_dense": "ffn_out",
        "layer_norm": "norm",
        "layer_norm_ff": "norm",
    }, "encoder"),
    (_M + "xlnet.xlnet_encoder", "XLNetAttentionMaskLayer", {
        "mask_emb": "embedding",  # the learned embedding of masked positions
    }, None),

    # =========================================================================
    # Encoder-decoder models
    # =========================================================================
    # T5 (one class for both stacks; decoder layers have a cross-attention).
    # T5's gated FFN: act(input_projector(x)) * gate_projector(x).
    (_M + "t5.t5_transformer_layer", "T5TransformerLayer", {
        "self_attention.query_projector": "q",
        "self_attention.key_projector": "k",
        "self_attention.value_projector": "v",
        "self_attention.output_projector": "o",
        "self_attention.relative_attention_bias": "position",  # optional (layer 0)
        "input_projector": "ffn_in",
        "gate_projector": "ffn_gate",  # optional (use_gated_activation)
        "output_projector": "ffn_out",
        "self_attention_layer_norm": "norm",
        "cross_attention_layer_norm": "norm",  # optional (decoder)
        "layer_norm": "norm",
    }, "auto:is_decoder", {
        "cross_attention.query_projector": "q",
        "cross_attention.key_projector": "k",
        "cross_attention.value_projector": "v",
        "cross_attention.output_projector": "o",
    }),
    (_M + "t5.t5_layer_norm", "T5LayerNorm", {"weight": "norm"}, None),

    # BART builds keras_hub.layers.TransformerEncoder / TransformerDecoder blocks:
    # handled by the generic code.

    # Whisper (the blocks subclass keras_hub's TransformerEncoder/Decoder and keep
    # their attribute names, so the generic code handles them as well).
    (_M + "whisper.whisper_encoder", "WhisperEncoder", {
        "_self_attention_layer._query_dense": "q",
        "_self_attention_layer._key_dense": "k",
        "_self_attention_layer._value_dense": "v",
        "_self_attention_layer._output_dense": "o",
        "_feedforward_intermediate_dense": "ffn_in",
        "_feedforward_output_dense": "ffn_out",
        "_self_attention_layer_norm": "norm",
        "_feedforward_layer_norm": "norm",
    }, "encoder"),
    (_M + "whisper.whisper_decoder", "WhisperDecoder", {
        "_self_attention_layer._query_dense": "q",
        "_self_attention_layer._key_dense": "k",
        "_self_attention_layer._value_dense": "v",
        "_self_attention_layer._output_dense": "o",
        "_feedforward_intermediate_dense": "ffn_in",
        "_feedforward_output_dense": "ffn_out",
        "_self_attention_layer_norm": "norm",
        "_cross_attention_layer_norm": "norm",
        "_feedforward_layer_norm": "norm",
    }, "decoder", {
        "_cross_attention_layer._query_dense": "q",
        "_cross_attention_layer._key_dense": "k",
        "_cross_attention_layer._value_dense": "v",
        "_cross_attention_layer._output_dense": "o",
    }),

    # Moonshine (subclasses of TransformerEncoder/Decoder with other attribute
    # names, which the generic code does not know). With SwiGLU (the decoder's
    # default) dense_1 holds the up and gate halves fused.
    (_M + "moonshine.moonshine_encoder", "MoonshineEncoderBlock", {
        "self_attention_layer._query_dense": "q",
        "self_attention_layer._key_dense": "k",
        "self_attention_layer._value_dense": "v",
        "self_attention_layer._output_dense": "o",
        "feedforward.dense_1": "ffn_in",
        "feedforward.dense_2": "ffn_out",
        "self_attention_layer_norm": "norm",
        "feedforward_layer_norm": "norm",
    }, "encoder"),
    (_M + "moonshine.moonshine_decoder", "MoonshineDecoderBlock", {
        "self_attention._query_dense": "q",
        "self_attention._key_dense": "k",
        "self_attention._value_dense": "v",
        "self_attention._output_dense": "o",
        "ff.dense_1": "ffn_in",
        "ff.dense_2": "ffn_out",
        "norm1": "norm",
        "norm2": "norm",
        "norm3": "norm",
    }, "decoder", {
        "cross_attention._query_dense": "q",
        "cross_attention._key_dense": "k",
        "cross_attention._value_dense": "v",
        "cross_attention._output_dense": "o",
    }),
    # MoonshineRotaryEmbedding.inv_freq (a rotary-frequency buffer) is left out.

    # T5Gemma (norms are gemma.rms_normalization.RMSNormalization).
    (_M + "t5gemma.t5gemma_encoder", "T5GemmaEncoderLayer", {
        "self_attn.query_dense": "q",
        "self_attn.key_dense": "k",
        "self_attn.value_dense": "v",
        "self_attn.output_dense": "o",
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_in",
        "mlp.down_proj": "ffn_out",
        "pre_self_attn_layernorm": "norm",
        "post_self_attn_layernorm": "norm",
        "pre_feedforward_layernorm": "norm",
        "post_feedforward_layernorm": "norm",
    }, "encoder"),
    (_M + "t5gemma.t5gemma_decoder", "T5GemmaDecoderLayer", {
        "self_attn.query_dense": "q",
        "self_attn.key_dense": "k",
        "self_attn.value_dense": "v",
        "self_attn.output_dense": "o",
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_in",
        "mlp.down_proj": "ffn_out",
        "pre_self_attn_layernorm": "norm",
        "post_self_attn_layernorm": "norm",
        "pre_cross_attn_layernorm": "norm",
        "post_cross_attn_layernorm": "norm",
        "pre_feedforward_layernorm": "norm",
        "post_feedforward_layernorm": "norm",
    }, "decoder", {
        "cross_attn.query_dense": "q",
        "cross_attn.key_dense": "k",
        "cross_attn.value_dense": "v",
        "cross_attn.output_dense": "o",
    }),

    # T5Gemma2 (norms are gemma3.gemma3_layers.RMSNormalization). The decoder's
    # merged attention attends to [decoder; encoder] states with one set of
    # projections: self and cross attention share q/k/v/o, given as self roles.
    (_M + "t5gemma2.t5gemma2_encoder", "T5Gemma2EncoderLayer", {
        "self_attn.query_dense": "q",
        "self_attn.key_dense": "k",
        "self_attn.value_dense": "v",
        "self_attn.output_dense": "o",
        "self_attn.query_norm": "norm",  # optional (use_query_key_norm)
        "self_attn.key_norm": "norm",  # optional (use_query_key_norm)
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_in",
        "mlp.down_proj": "ffn_out",
        "pre_self_attn_layernorm": "norm",
        "post_self_attn_layernorm": "norm",
        "pre_feedforward_layernorm": "norm",
        "post_feedforward_layernorm": "norm",
    }, "encoder"),
    (_M + "t5gemma2.t5gemma2_decoder", "T5Gemma2DecoderLayer", {
        "merged_attn.query_dense": "q",
        "merged_attn.key_dense": "k",
        "merged_attn.value_dense": "v",
        "merged_attn.output_dense": "o",
        "merged_attn.query_norm": "norm",  # optional (use_query_key_norm)
        "merged_attn.key_norm": "norm",  # optional (use_query_key_norm)
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_in",
        "mlp.down_proj": "ffn_out",
        "pre_self_attn_layernorm": "norm",
        "post_self_attn_layernorm": "norm",
        "pre_feedforward_layernorm": "norm",
        "post_feedforward_layernorm": "norm",
    }, "decoder"),

    # EdRec. Its gated FFN: gelu(up_proj(x)) * gate_proj(x).
    (_M + "edrec.edrec_layers", "EdRecEncoderBlock", {
        "attention._query_dense": "q",
        "attention._key_dense": "k",
        "attention._value_dense": "v",
        "attention._output_dense": "o",
        "mlp.up_proj": "ffn_in",
        "mlp.gate_proj": "ffn_gate",
        "mlp.down_proj": "ffn_out",
        "pre_attention_norm": "norm",
        "pre_ffw_norm": "norm",
    }, "encoder"),
    (_M + "edrec.edrec_layers", "EdRecDecoderBlock", {
        "self_attention._query_dense": "q",
        "self_attention._key_dense": "k",
        "self_attention._value_dense": "v",
        "self_attention._output_dense": "o",
        "mlp.up_proj": "ffn_in",
        "mlp.gate_proj": "ffn_gate",
        "mlp.down_proj": "ffn_out",
        "pre_self_attn_norm": "norm",
        "pre_cross_attn_norm": "norm",
        "pre_ffw_norm": "norm",
    }, "decoder", {
        "cross_attention._query_dense": "q",
        "cross_attention._key_dense": "k",
        "cross_attention._value_dense": "v",
        "cross_attention._output_dense": "o",
    }),
    (_M + "edrec.edrec_layers", "EdRecRMSNormalization", {"scale": "norm"}, None),

    # =========================================================================
    # Vision transformers
    # =========================================================================
    # ViT (also the image encoder of PARSeq and BLIP-2's vision encoder).
    (_M + "vit.vit_layers", "ViTEncoderBlock", {
        "mha._query_dense": "q",
        "mha._key_dense": "k",
        "mha._value_dense": "v",
        "mha._output_dense": "o",
        "mlp.dense_1": "ffn_in",
        "mlp.dense_2": "ffn_out",
        "layer_norm_1": "norm",
        "layer_norm_2": "norm",
    }, "encoder"),
    (_M + "vit.vit_layers", "ViTPatchingAndEmbedding", {
        "patch_embedding": "embedding",  # Conv2D patch projection
        "class_token": "embedding",  # optional (use_class_token)
        "position_embedding": "position",
    }, None),
    (_M + "vit.vit_layers", "ViTEncoder", {"layer_norm": "norm"}, None),

    # DeiT.
    (_M + "deit.deit_layers", "DeiTEncoderBlock", {
        "mha._query_dense": "q",
        "mha._key_dense": "k",
        "mha._value_dense": "v",
        "mha._output_dense": "o",
        "mlp.dense": "ffn_in",
        "output_layer.dense": "ffn_out",
        "layer_norm_1": "norm",
        "layer_norm_2": "norm",
    }, "encoder"),
    (_M + "deit.deit_layers", "DeiTEmbeddings", {
        "patch_embedding": "embedding",  # Conv2D patch projection
        "class_token": "embedding",
        "distillation_token": "embedding",
        "position_embedding": "position",  # a variable (1, tokens, hidden)
    }, None),
    (_M + "deit.deit_layers", "DeiTEncoder", {"layer_norm": "norm"}, None),

    # DINOv2. mlp is a DINOV2MLP (fc1/fc2) or, with use_swiglu_ffn, a
    # DINOV2SwiGLUFFN whose weights_in holds the two SwiGLU halves fused. Left
    # out: the layer scales layer_scale1.lambda1, layer_scale2.lambda1.
    (_M + "dinov2.dinov2_layers", "DINOV2Layer", {
        "attention.attention._query_dense": "q",
        "attention.attention._key_dense": "k",
        "attention.attention._value_dense": "v",
        "attention.attention._output_dense": "o",
        "mlp.fc1": "ffn_in",  # optional (plain MLP)
        "mlp.fc2": "ffn_out",  # optional (plain MLP)
        "mlp.weights_in": "ffn_in",  # optional (SwiGLU)
        "mlp.weights_out": "ffn_out",  # optional (SwiGLU)
        "norm1": "norm",
        "norm2": "norm",
    }, "encoder"),
    (_M + "dinov2.dinov2_layers", "DINOV2Embedding", {
        "patch_embeddings.projection": "embedding",  # Conv2D patch projection
        "cls_token": "embedding",
        "mask_token": "embedding",  # optional (use_mask_token)
        "register_tokens": "embedding",  # optional (num_register_tokens > 0)
        # the pretrained table (non-trainable) and the one used on the input size
        "position_embeddings": "position",
        "interpolated_position_embeddings": "position",
    }, None),

    # DINOv3 (RoPE: no position table). Left out: layer_scale1.lambda1,
    # layer_scale2.lambda1.
    (_M + "dinov3.dinov3_layers", "DINOV3Layer", {
        "attention.query_dense": "q",
        "attention.key_dense": "k",
        "attention.value_dense": "v",
        "attention.output_dense": "o",
        "mlp.gate_proj": "ffn_gate",  # optional (use_gated_mlp)
        "mlp.up_proj": "ffn_in",
        "mlp.down_proj": "ffn_out",
        "norm1": "norm",
        "norm2": "norm",
    }, "encoder"),
    (_M + "dinov3.dinov3_layers", "DINOV3Embedding", {
        "patch_embeddings.projection": "embedding",  # Conv2D patch projection
        "cls_token": "embedding",
        "mask_token": "embedding",  # optional (use_mask_token)
        "register_tokens": "embedding",  # optional (num_register_tokens > 0)
    }, None),

    # ViTDet (SAM's image encoder). The MLP is a keras Sequential
    # (mlp_block.dense_net): its first and last Dense by index. Left out: the
    # middle Dense layers of an MLP with more than one hidden layer.
    (_M + "vit_det.vit_layers", "WindowedTransformerEncoder", {
        "mlp_block.dense_net.layers.0": "ffn_in",
        "mlp_block.dense_net.layers.-1": "ffn_out",
        "attention.qkv": "qkv",
        "attention.projection": "o",
        "attention.add_decomposed_relative_pe.rel_pos_h": "position",  # optional (use_rel_pos)
        "attention.add_decomposed_relative_pe.rel_pos_w": "position",  # optional (use_rel_pos)
        "layer_norm1": "norm",
        "layer_norm2": "norm",
    }, "encoder"),
    (_M + "vit_det.vit_layers", "ViTDetPatchingAndEmbedding", {
        "projection": "embedding",  # Conv2D patch projection
    }, None),
    (_M + "vit_det.vit_layers", "AddPositionalEmbedding", {"pos_embed": "position"}, None),

    # CLIP (vision and text encoders share CLIPEncoderLayer; the text encoder
    # embeds with keras_hub's TokenAndPositionEmbedding, handled generically).
    # Left out: CLIPVisionEmbedding.position_ids (a non-trainable index buffer),
    # CLIPHead.logit_scale.
    (_M + "clip.clip_layers", "CLIPEncoderLayer", {
        "attention._query_dense": "q",
        "attention._key_dense": "k",
        "attention._value_dense": "v",
        "attention._output_dense": "o",
        "dense_1": "ffn_in",
        "dense_2": "ffn_out",
        "layer_norm_1": "norm",
        "layer_norm_2": "norm",
    }, "encoder"),
    (_M + "clip.clip_layers", "CLIPVisionEmbedding", {
        "patch_embedding": "embedding",  # Conv2D patch projection
        "class_embedding": "embedding",  # the class token
        "position_embedding": "position",
    }, None),

    # MetaCLIP 2 (same layout as CLIP). Left out: MetaCLIP2Head.logit_scale.
    (_M + "metaclip_2.metaclip_2_layers", "MetaCLIP2EncoderLayer", {
        "attention._query_dense": "q",
        "attention._key_dense": "k",
        "attention._value_dense": "v",
        "attention._output_dense": "o",
        "dense_1": "ffn_in",
        "dense_2": "ffn_out",
        "layer_norm_1": "norm",
        "layer_norm_2": "norm",
    }, "encoder"),
    (_M + "metaclip_2.metaclip_2_layers", "MetaCLIP2VisionEmbedding", {
        "patch_embedding": "embedding",  # Conv2D patch projection
        "class_embedding": "embedding",  # the class token
        "position_embedding": "position",
    }, None),

    # SigLIP (vision and text). Left out: position_ids buffers, SigLIPHead's
    # logit_scale / logit_bias.
    (_M + "siglip.siglip_layers", "SigLIPEncoderLayer", {
        "self_attn._query_dense": "q",
        "self_attn._key_dense": "k",
        "self_attn._value_dense": "v",
        "self_attn._output_dense": "o",
        "mlp.fc1": "ffn_in",
        "mlp.fc2": "ffn_out",
        "layer_norm1": "norm",
        "layer_norm2": "norm",
    }, "encoder"),
    (_M + "siglip.siglip_layers", "SigLIPVisionEmbedding", {
        "patch_embedding": "embedding",  # Conv2D patch projection
        "position_embedding": "position",
    }, None),
    (_M + "siglip.siglip_layers", "SigLIPTextEmbedding", {
        "token_embedding": "embedding",
        "position_embedding": "position",  # a ReversibleEmbedding used as a position table
    }, None),
    # The vision encoder's attention-pooling head (MAP): a learned probe
    # cross-attends to the tokens, then an MLP. A head, not a block of the stack
    # (no block roles, so the encoder's depth stays num_layers): its MLP is
    # "head", its attention a cross-attention.
    (_M + "siglip.siglip_layers", "SigLIPMultiHeadAttentionPooling", {
        "probe": "embedding",
        "mlp.fc1": "head",
        "mlp.fc2": "head",
        "layer_norm": "norm",
    }, None, {
        "attention._query_dense": "q",
        "attention._key_dense": "k",
        "attention._value_dense": "v",
        "attention._output_dense": "o",
    }),

    # BLIP-2 Q-Former (BERT-style: bidirectional self-attention over the query
    # tokens, cross-attention to the image; cross_attention only every
    # cross_attention_frequency layers). BLIP-2's vision encoder builds ViT
    # layers (above), its language model keras_hub TransformerDecoders.
    (_M + "blip2.blip2_qformer", "QFormerLayer", {
        "self_attention.attention._query_dense": "q",
        "self_attention.attention._key_dense": "k",
        "self_attention.attention._value_dense": "v",
        "self_attention.attention._output_dense": "o",
        "self_attention.layer_norm": "norm",
        "cross_attention.layer_norm": "norm",  # optional (cross_attention_frequency)
        "intermediate_dense": "ffn_in",
        "output_dense": "ffn_out",
        "output_layer_norm": "norm",
    }, "encoder", {
        "cross_attention.attention._query_dense": "q",
        "cross_attention.attention._key_dense": "k",
        "cross_attention.attention._value_dense": "v",
        "cross_attention.attention._output_dense": "o",
    }),
    (_M + "blip2.blip2_qformer", "BLIP2QueryTokens", {"query_tokens": "embedding"}, None),
    (_M + "blip2.blip2_custom_opt", "BLIP2OPTEmbeddings", {
        "token_embedding": "embedding",
        "position_embedding": "position",  # keras Embedding used as a position table
    }, None),

    # VideoPrism (spatial, temporal, auxiliary and text encoders share the block
    # class). Left out: mha.per_dim_scale_layer (optional per-dim query scale).
    (_M + "video_prism.video_prism_layers", "VideoPrismEncoderBlock", {
        "mha.query_dense": "q",
        "mha.key_dense": "k",
        "mha.value_dense": "v",
        "mha.output_dense": "o",
        "mlp.dense_1": "ffn_in",
        "mlp.dense_2": "ffn_out",
        "layer_norm_1": "norm",
        "layer_norm_2": "norm",
    }, "encoder"),
    (_M + "video_prism.video_prism_layers", "VideoPrismEncoder", {
        "layer_norm": "norm",  # optional
    }, None),
    (_M + "video_prism.video_prism_layers", "VideoPrismPatchingAndEmbedding", {
        "patch_embedding": "embedding",  # Dense patch projection
        "position_embedding": "position",
    }, None),
    (_M + "video_prism.video_prism_layers", "VideoPrismTemporalEmbedding", {
        "embedding": "position",  # the learned temporal (frame) position table
    }, None),
    (_M + "video_prism.video_prism_layers", "VideoPrismClassToken", {
        "cls_token": "embedding",
    }, None),
    # The video pooler (attention pooling, no FFN: not a block): its learned query
    # and the cross-attention of that query to the tokens. Left out:
    # pooling_attention.per_dim_scale_layer.
    (_M + "video_prism.video_prism_layers", "VideoPrismAttenTokenPoolingLayer", {
        "pooling_attention_query": "embedding",
        "layer_norm": "norm",
    }, None, {
        "pooling_attention.query_dense": "q",
        "pooling_attention.key_dense": "k",
        "pooling_attention.value_dense": "v",
        "pooling_attention.output_dense": "o",
    }),

    # PARSeq decoder (on a ViT encoder). Its MLP is vit_layers.MLP.
    (_M + "parseq.parseq_decoder", "PARSeqDecoderBlock", {
        "self_attention._query_dense": "q",
        "self_attention._key_dense": "k",
        "self_attention._value_dense": "v",
        "self_attention._output_dense": "o",
        "mlp.dense_1": "ffn_in",
        "mlp.dense_2": "ffn_out",
        "query_layer_norm": "norm",
        "content_layer_norm": "norm",
        "layer_norm_1": "norm",
        "layer_norm_2": "norm",
    }, "decoder", {
        "cross_attention._query_dense": "q",
        "cross_attention._key_dense": "k",
        "cross_attention._value_dense": "v",
        "cross_attention._output_dense": "o",
    }),
    (_M + "parseq.parseq_decoder", "PARSeqDecoder", {
        "pos_query_embeddings": "position",  # the positional queries
        "layer_norm": "norm",
    }, None),

    # Swin Transformer. Left out: PatchMerging.reduction (the downsampling
    # projection between stages; its norm is a keras LayerNormalization).
    (_M + "swin_transformer.swin_transformer_layers", "SwinTransformerBlock", {
        "attn.qkv": "qkv",
        "attn.proj": "o",
        "attn.relative_position_bias_table": "position",
        "mlp.fc1": "ffn_in",
        "mlp.fc2": "ffn_out",
        "norm1": "norm",
        "norm2": "norm",
    }, "encoder"),
    (_M + "swin_transformer.swin_transformer_layers", "PatchEmbedding", {
        "proj": "embedding",  # Conv2D patch projection
        "norm": "norm",
    }, None),

    # MiT (SegFormer's encoder). Left out: attn.sr (the spatial-reduction Conv2D
    # of keys/values, when sr_ratio > 1) and mlp.dwconv (Mix-FFN depthwise conv).
    (_M + "mit.mit_layers", "HierarchicalTransformerEncoder", {
        "attn.q": "q",
        "attn.k": "k",
        "attn.v": "v",
        "attn.proj": "o",
        "attn.norm": "norm",  # optional (sr_ratio > 1)
        "mlp.fc1": "ffn_in",
        "mlp.fc2": "ffn_out",
        "norm1": "norm",
        "norm2": "norm",
    }, "encoder"),
    (_M + "mit.mit_layers", "OverlappingPatchingAndEmbedding", {
        "proj": "embedding",  # Conv2D (overlapping) patch projection
        "norm": "norm",
    }, None),

    # SAM mask decoder (two-way transformer: tokens self-attend, attend to the
    # image, and the image attends back to the tokens). Its MLP is a
    # sam_layers.MLP holding a keras Sequential: first and last Dense by
    # index (middle ones left out). Note: SAMBackbone's graph does not call
    # the mask decoder (SAMImageSegmenter does).
    (_M + "sam.sam_layers", "TwoWayMultiHeadAttention", {
        "mlp_block.mlp_block.layers.0": "ffn_in",
        "mlp_block.mlp_block.layers.-1": "ffn_out",
        "self_attention.query_proj": "q",
        "self_attention.key_proj": "k",
        "self_attention.value_proj": "v",
        "self_attention.out_proj": "o",
        "layer_norm1": "norm",
        "layer_norm2": "norm",
        "layer_norm3": "norm",
        "layer_norm4": "norm",
    }, "decoder", {
        "cross_attention_token_to_image.query_proj": "q",
        "cross_attention_token_to_image.key_proj": "k",
        "cross_attention_token_to_image.value_proj": "v",
        "cross_attention_token_to_image.out_proj": "o",
        "cross_attention_image_to_token.query_proj": "q",
        "cross_attention_image_to_token.key_proj": "k",
        "cross_attention_image_to_token.value_proj": "v",
        "cross_attention_image_to_token.out_proj": "o",
    }),
    # The final token-to-image attention after the two-way blocks (not a block).
    (_M + "sam.sam_transformer", "TwoWayTransformer", {
        "final_layer_norm": "norm",
    }, None, {
        "final_attention_token_to_image.query_proj": "q",
        "final_attention_token_to_image.key_proj": "k",
        "final_attention_token_to_image.value_proj": "v",
        "final_attention_token_to_image.out_proj": "o",
    }),

    # SAM3: ViT image encoder (RoPE), CLIP-style text encoder, geometry encoder,
    # DETR encoder (self + cross to the prompt), DETR decoder (self, cross to the
    # text, cross to the image). Left out: SAM3ViTLayer.rotary_emb's
    # rope_embeddings_cos / rope_embeddings_sin (rotary buffers).
    (_M + "sam3.sam3_vision_encoder", "SAM3ViTLayer", {
        "attention.q_proj": "q",
        "attention.k_proj": "k",
        "attention.v_proj": "v",
        "attention.o_proj": "o",
        "mlp.fc1": "ffn_in",
        "mlp.fc2": "ffn_out",
        "layer_norm1": "norm",
        "layer_norm2": "norm",
    }, "encoder"),
    (_M + "sam3.sam3_layers", "SAM3Embedding", {
        "patch_embeddings.projection": "embedding",  # Conv2D patch projection
        # the pretrained table (non-trainable) and the tiled one used on the input
        "position_embeddings": "position",
        "tiled_position_embeddings": "position",
    }, None),
    (_M + "sam3.sam3_text_encoder", "CLIPEncoderLayer", {
        "attention._query_dense": "q",
        "attention._key_dense": "k",
        "attention._value_dense": "v",
        "attention._output_dense": "o",
        "dense_1": "ffn_in",
        "dense_2": "ffn_out",
        "layer_norm_1": "norm",
        "layer_norm_2": "norm",
    }, "encoder"),
    (_M + "sam3.sam3_geometry_encoder", "SAM3GeometryEncoderLayer", {
        "self_attn.q_proj": "q",
        "self_attn.k_proj": "k",
        "self_attn.v_proj": "v",
        "self_attn.o_proj": "o",
        "mlp.fc1": "ffn_in",
        "mlp.fc2": "ffn_out",
        "layer_norm1": "norm",
        "layer_norm2": "norm",
        "layer_norm3": "norm",
    }, "encoder", {
        "cross_attn.q_proj": "q",
        "cross_attn.k_proj": "k",
        "cross_attn.v_proj": "v",
        "cross_attn.o_proj": "o",
    }),
    (_M + "sam3.sam3_detr_encoder", "SAM3DetrEncoderLayer", {
        "self_attn.q_proj": "q",
        "self_attn.k_proj": "k",
        "self_attn.v_proj": "v",
        "self_attn.o_proj": "o",
        "mlp.fc1": "ffn_in",
        "mlp.fc2": "ffn_out",
        "layer_norm1": "norm",
        "layer_norm2": "norm",
        "layer_norm3": "norm",
    }, "encoder", {
        "cross_attn.q_proj": "q",
        "cross_attn.k_proj": "k",
        "cross_attn.v_proj": "v",
        "cross_attn.o_proj": "o",
    }),
    (_M + "sam3.sam3_detr_decoder", "SAM3DetrDecoderLayer", {
        "self_attn.q_proj": "q",
        "self_attn.k_proj": "k",
        "self_attn.v_proj": "v",
        "self_attn.o_proj": "o",
        "mlp.fc1": "ffn_in",
        "mlp.fc2": "ffn_out",
        "self_attn_layer_norm": "norm",
        "text_cross_attn_layer_norm": "norm",
        "vision_cross_attn_layer_norm": "norm",
        "mlp_layer_norm": "norm",
    }, "decoder", {
        "text_cross_attn.q_proj": "q",
        "text_cross_attn.k_proj": "k",
        "text_cross_attn.v_proj": "v",
        "text_cross_attn.o_proj": "o",
        "vision_cross_attn.q_proj": "q",
        "vision_cross_attn.k_proj": "k",
        "vision_cross_attn.v_proj": "v",
        "vision_cross_attn.o_proj": "o",
    }),
    # The mask decoder's cross-attention of the pixel features to the prompt.
    (_M + "sam3.sam3_mask_decoder", "SAM3MaskDecoder", {
        "prompt_cross_attn_norm": "norm",
    }, None, {
        "prompt_cross_attn.q_proj": "q",
        "prompt_cross_attn.k_proj": "k",
        "prompt_cross_attn.v_proj": "v",
        "prompt_cross_attn.o_proj": "o",
    }),

    # D-FINE: the hybrid encoder's transformer layer and the decoder layer. Left
    # out (decoder): encoder_attn, a multi-scale deformable attention with no
    # q/k/v/o projections (sampling_offsets, attention_weights, num_points_scale),
    # and gateway.gate (the gated fusion's projection; gateway.norm is kept).
    (_M + "d_fine.d_fine_encoder", "DFineEncoderLayer", {
        "self_attn.q_proj": "q",
        "self_attn.k_proj": "k",
        "self_attn.v_proj": "v",
        "self_attn.out_proj": "o",
        "fc1": "ffn_in",
        "fc2": "ffn_out",
        "self_attn_layer_norm": "norm",
        "final_layer_norm": "norm",
    }, "encoder"),
    (_M + "d_fine.d_fine_decoder", "DFineDecoderLayer", {
        "self_attn.q_proj": "q",
        "self_attn.k_proj": "k",
        "self_attn.v_proj": "v",
        "self_attn.out_proj": "o",
        "fc1": "ffn_in",
        "fc2": "ffn_out",
        "self_attn_layer_norm": "norm",
        "final_layer_norm": "norm",
        "gateway.norm": "norm",
    }, "decoder"),

    # =========================================================================
    # Diffusion transformers
    # =========================================================================
    # MMDiT (Stable Diffusion 3): one joint attention over the latent (x_block)
    # and context (context_block) streams, each with its own projections and MLP.
    # The last layer's context_block has no output projection nor MLP. Left out:
    # x_block.ada_layer_norm.dense, context_block.ada_layer_norm.dense (adaLN
    # modulation); the norms norm2 / ada_layer_norm.norm have no weights.
    (_M + "stable_diffusion_3.mmdit", "MMDiTBlock", {
        "x_block.attention_qkv": "qkv",
        "x_block.attention_proj": "o",
        "x_block.mlp.dense1": "ffn_in",
        "x_block.mlp.dense2": "ffn_out",
        "x_block.q_norm": "norm",  # optional (qk_norm)
        "x_block.k_norm": "norm",  # optional (qk_norm)
        # optional (dual_attention_indices): the latent stream's second attention
        "x_block.attention_qkv2": "qkv",
        "x_block.attention_proj2": "o",
        "x_block.q_norm2": "norm",
        "x_block.k_norm2": "norm",
        "context_block.attention_qkv": "qkv",
        "context_block.attention_proj": "o",  # optional (not in the last layer)
        "context_block.mlp.dense1": "ffn_in",  # optional (not in the last layer)
        "context_block.mlp.dense2": "ffn_out",  # optional (not in the last layer)
        "context_block.q_norm": "norm",  # optional (qk_norm)
        "context_block.k_norm": "norm",  # optional (qk_norm)
    }, "encoder"),
    (_M + "stable_diffusion_3.mmdit", "PatchEmbedding", {
        "patch_embedding": "embedding",  # Conv2D patch projection
    }, None),
    # (AdjustablePositionEmbedding subclasses keras_hub's PositionEmbedding.)

    # Flux. DoubleStreamBlock: image and text streams with a joint attention;
    # each stream's MLP is a keras Sequential [Dense, gelu, Dense] (by index).
    # Left out: image_mod / text_mod (modulation projections).
    (_M + "flux.flux_layers", "DoubleStreamBlock", {
        "image_mlp.layers.0": "ffn_in",
        "image_mlp.layers.-1": "ffn_out",
        "text_mlp.layers.0": "ffn_in",
        "text_mlp.layers.-1": "ffn_out",
        "image_attn.qkv": "qkv",
        "image_attn.proj": "o",
        "image_attn.norm.query_norm": "norm",
        "image_attn.norm.key_norm": "norm",
        "text_attn.qkv": "qkv",
        "text_attn.proj": "o",
        "text_attn.norm.query_norm": "norm",
        "text_attn.norm.key_norm": "norm",
        "image_norm1": "norm",
        "image_norm2": "norm",
        "text_norm1": "norm",
        "text_norm2": "norm",
    }, "encoder"),
    # SingleStreamBlock: attention and MLP in parallel, fused: linear1 = [q, k, v,
    # mlp_in], linear2 = [attention_out, mlp_out] -> "qkv" and "o". Left out:
    # modulation.
    (_M + "flux.flux_layers", "SingleStreamBlock", {
        "linear1": "qkv",
        "linear2": "o",
        "norm.query_norm": "norm",
        "norm.key_norm": "norm",
        "pre_norm": "norm",
    }, "encoder"),
    (_L + "rms_normalization", "RMSNormalization", {"scale": "norm"}, None),
]

# Layers that save a copy of a weight derived from the one the model uses, and
# write that copy in save_own_variables only when their change check fires:
#   (module, class name, used weight, saved weight, method, {kwarg: attribute})
# The check in keras-hub 0.32 is a *signed* sum of the changes > epsilon, so a
# redrawn table is lost on save about half the time (measured: DINOv2 after
# reinitialize, max output difference 3.7 after load). After any step changes
# the used weight, the saved copy is set as save_own_variables would:
# ``saved = layer.method(used, **{k: getattr(layer, a)})``.
DERIVED = [
    (_M + "dinov2.dinov2_layers", "DINOV2Embedding", "interpolated_position_embeddings",
     "position_embeddings", "_interpolate_position_embeddings",
     {"patch_size": "patch_size", "source_shape": "image_shape",
      "target_shape": "position_embedding_shape",
      "antialias": "antialias_in_interpolation"}),
    (_M + "sam3.sam3_layers", "SAM3Embedding", "tiled_position_embeddings",
     "position_embeddings", "_tile_position_embeddings",
     {"patch_size": "patch_size", "source_shape": "image_shape",
      "target_shape": "pretrain_image_shape"}),
]

# -----------------------------------------------------------------------------
# Skipped (no entry):
# - Handled by the generic code (keras_hub.layers.TransformerEncoder /
#   TransformerDecoder blocks): BERT, DistilBERT, RoBERTa, XLM-RoBERTa, ALBERT,
#   ELECTRA, BART, GPT2, OPT, BLIP-2's OPT language model.
# - Not transformers (no attention + FFN block): ResNet, CSPNet, EfficientNet,
#   MobileNet, DenseNet, VGG, Xception, HGNetV2 (CNNs); RetinaNet, DeepLabV3,
#   BASNet (CNN heads on a ResNet); VAE (a conv autoencoder; its single mid-block
#   Conv2DMultiHeadAttention has no FFN); RQVAE (MLP autoencoder with residual
#   vector quantisation); DepthAnything's neck/head (convs on a DINOv2 encoder,
#   which is covered); SegFormer's head (on a MiT encoder, covered).
# - MobileNetV5 (Gemma3n's vision tower) MobileAttention: a CNN stage with
#   multi-query attention whose projections are held in lists (query_layers,
#   key_layers, value_layers, output_proj_layers), which attribute paths cannot
#   index.
# - Nothing was skipped for failing to build offline: every keras_hub 0.32
#   backbone builds from a small config (benchmarks/hub_configs.py).

# -----------------------------------------------------------------------------
# Verification summary (keras-hub 0.32.0, keras 3.15.1, TensorFlow backend).
# Every builder of benchmarks/hub_configs.py (100 configurations covering all 83
# concrete keras_hub Backbone classes) was built and called on sample_inputs():
# all forward passes finite. For every entry, on every instance of its class (or
# subclass) found by model._flatten_layers(include_self=True, recursive=True):
# (a) every path resolves to a keras Layer with weights or a keras.Variable, on all
#     instances except the paths marked optional (each resolves on at least one);
# (b) every weight of a block instance is covered by a path (the variable, or a
#     weight of the layer at the path), except the deliberately left-out weights
#     listed in the entry's comment; no variable gets two different roles; a path
#     to a layer only hits kernel/bias/gamma/beta/scale/embeddings-like weights.
# blocks: instances found; covered/total: block weights (summed over instances);
# left out: the deliberately uncovered ones. Problems found: 0.
#
# SUMMARY (block entries)
# family             block class                        part             blocks covered/total left out  built in
# llama              LlamaTransformerDecoder            decoder               6     54/54            0  llama,llama_untied,llama3
# mistral            MistralTransformerDecoder          decoder               2     18/18            0  mistral
# mixtral            MixtralTransformerDecoder          decoder               2     18/20            2  mixtral
# gemma              GemmaDecoderBlock                  decoder               6     58/58            0  gemma,gemma2,pali_gemma
# gemma3             Gemma3DecoderBlock                 decoder               4     52/52            0  gemma3,gemma3_vision
# gemma3             Gemma3VisionEncoderLayer           encoder               2     32/32            0  gemma3_vision
# pali_gemma         PaliGemmaVitEncoderBlock           encoder               2     32/32            0  pali_gemma
# gemma3n            Gemma3nTextDecoderBlock            decoder               4     64/96           32  gemma3n,gemma3n_multimodal
# gemma3n            Gemma3nAudioConformerBlock         encoder               2     34/44           10  gemma3n_multimodal
# gemma4             Gemma4TextDecoderBlock             decoder               8    118/136          18  gemma4,gemma4_moe,gemma4_vision,gemma4_audio
# gemma4             Gemma4VisionDecoderBlock           encoder               2     26/82           56  gemma4_vision
# gemma4             Gemma4AudioConformerBlock          encoder               2     34/124          90  gemma4_audio
# qwen               QwenTransformerDecoder             decoder               2     24/24            0  qwen
# qwen3              Qwen3TransformerDecoder            decoder               2     22/22            0  qwen3
# qwen_moe           QwenMoeTransformerDecoder          decoder               4     52/56            4  qwen_moe,qwen_moe_dense
# qwen3_moe          Qwen3MoeTransformerDecoder         decoder               2     21/22            1  qwen3_moe
# qwen3_5            Qwen3_5TransformerDecoder          decoder               4     38/50           12  qwen3_5,qwen3_5_vision
# qwen3_5            Qwen3_5VisionBlock                 encoder               2     24/24            0  qwen3_5_vision
# qwen3_5_moe        Qwen3_5MoeTransformerDecoder       decoder               2     23/33           10  qwen3_5_moe
# phi3               Phi3Decoder                        decoder               2     18/18            0  phi3
# gpt_neo_x          GPTNeoXDecoder                     decoder               2     24/24            0  gpt_neo_x
# gpt_oss            GptOssTransformerDecoder           decoder               2     28/34            6  gpt_oss
# falcon             FalconTransformerDecoder           decoder               2     32/32            0  falcon
# bloom              BloomDecoder                       decoder               2     32/32            0  bloom
# smollm3            SmolLM3DecoderLayer                decoder               2     18/20            2  smollm3
# rwkv7              RWKV7_Block                        decoder               2     26/65           39  rwkv7
# deberta_v3         DisentangledAttentionEncoder       encoder               2     32/32            0  deberta_v3
# esm                ESMEncoder                         encoder               4     64/64            0  esm,esm_abs
# layers             FNetEncoder                        encoder               2     16/16            0  f_net
# roformer_v2        RoformerV2Encoder                  encoder               2     16/16            0  roformer_v2
# xlnet              XLNetEncoder                       encoder               2     24/34           10  xlnet
# t5                 T5TransformerLayer                 auto 4enc/4dec        8     92/92            0  t5,t5_untied
# whisper            WhisperEncoder                     encoder               2     30/30            0  whisper
# whisper            WhisperDecoder                     decoder               2     48/48            0  whisper
# moonshine          MoonshineEncoderBlock              encoder               2     20/20            0  moonshine
# moonshine          MoonshineDecoderBlock              decoder               2     30/30            0  moonshine
# t5gemma            T5GemmaEncoderLayer                encoder               2     22/22            0  t5gemma
# t5gemma            T5GemmaDecoderLayer                decoder               2     34/34            0  t5gemma
# t5gemma2           T5Gemma2EncoderLayer               encoder               2     26/26            0  t5gemma2
# t5gemma2           T5Gemma2DecoderLayer               decoder               2     26/26            0  t5gemma2
# edrec              EdRecEncoderBlock                  encoder               2     18/18            0  edrec
# edrec              EdRecDecoderBlock                  decoder               2     28/28            0  edrec
# vit                ViTEncoderBlock                    encoder               6     96/96            0  vit,blip2,parseq
# deit               DeiTEncoderBlock                   encoder               2     32/32            0  deit
# dinov2             DINOV2Layer                        encoder               8    128/144          16  dinov2,dinov2_swiglu,depth_anything
# dinov3             DINOV3Layer                        encoder               4     68/76            8  dinov3,dinov3_gated
# vit_det            WindowedTransformerEncoder         encoder               4     40/56           16  vit_det,sam
# clip               CLIPEncoderLayer                   encoder              12    192/192           0  clip_vision,clip_text,clip,stable_diffusion_3
# metaclip_2         MetaCLIP2EncoderLayer              encoder               8    128/128           0  metaclip_2_vision,metaclip_2_text,metaclip_2
# siglip             SigLIPEncoderLayer                 encoder               8    128/128           0  siglip_vision,siglip_text,siglip
# blip2              QFormerLayer                       encoder               2     52/52            0  blip2
# video_prism        VideoPrismEncoderBlock             encoder              11    176/176           0  video_prism,video_prism_text
# parseq             PARSeqDecoderBlock                 decoder               2     56/56            0  parseq
# swin_transformer   SwinTransformerBlock               encoder               4     52/52            0  swin_transformer
# mit                HierarchicalTransformerEncoder     encoder               8    144/176          32  mit,segformer
# sam                TwoWayMultiHeadAttention           decoder               2     64/72            8  sam
# sam3               SAM3ViTLayer                       encoder               2     32/36            4  sam3
# sam3               CLIPEncoderLayer                   encoder               2     32/32            0  sam3
# sam3               SAM3GeometryEncoderLayer           encoder               2     52/52            0  sam3
# sam3               SAM3DetrEncoderLayer               encoder               2     52/52            0  sam3
# sam3               SAM3DetrDecoderLayer               decoder               2     72/72            0  sam3
# d_fine             DFineEncoderLayer                  encoder               1     16/16            0  d_fine
# d_fine             DFineDecoderLayer                  decoder               2     36/50           14  d_fine
# stable_diffusion_3 MMDiTBlock                         encoder               6     92/116          24  mmdit,mmdit_qk_norm_dual,stable_diffusion_3
# flux               DoubleStreamBlock                  encoder               2     40/64           24  flux
# flux               SingleStreamBlock                  encoder               2     16/20            4  flux
#
# SUMMARY (non-block entries: embeddings, positions, norms, heads) (named/own: weights named by a path / weights of the class
#   itself, nested registered classes excluded)
# family             class                               found  named/own  built in
# llama              LlamaLayerNorm                         15   15/15     llama,llama_untied,llama3
# mistral            MistralLayerNormalization               5    5/5      mistral
# mixtral            MixtralLayerNormalization               5    5/5      mixtral
# gemma              RMSNormalization                       41   41/41     gemma,gemma2,pali_gemma,t5gemma
# gemma3             RMSNormalization                       53   53/53     gemma3,gemma3_vision,t5gemma2
# gemma3             Gemma3VisionEmbedding                   1    3/3      gemma3_vision
# gemma3             Gemma3VisionEncoderBlock                1    2/2      gemma3_vision
# pali_gemma         PaliGemmaVitEmbeddings                  1    3/3      pali_gemma
# pali_gemma         PaliGemmaVitEncoder                     1    2/2      pali_gemma
# gemma3n            Gemma3nRMSNorm                         68   62/62     gemma3n,gemma3n_multimodal
# gemma3n            Gemma3nAudioCumulativeGroupNorm         2    2/2      gemma3n_multimodal
# mobilenetv5        RmsNorm2d                              24   24/24     gemma3n_multimodal,mobilenetv5,mobilenetv5_mqa
# gemma4             RMSNormalization                       73   73/73     gemma4,gemma4_moe,gemma4_vision,gemma4_audio
# gemma4             Gemma4FrozenNorm                       18   18/18     gemma4_audio
# gemma4             Gemma4VisionPatchEmbedder               1    2/2      gemma4_vision
# qwen               QwenLayerNorm                           7    7/7      qwen,qwen_moe,qwen_moe_dense
# qwen3              Qwen3LayerNorm                          9    9/9      qwen3
# qwen_moe           QwenMoeLayerNorm                        8    8/8      qwen_moe,qwen_moe_dense
# qwen3_moe          Qwen3MoeLayerNorm                       9    9/9      qwen3_moe
# qwen3_5            Qwen3_5LayerNorm                       21   21/21     qwen3_5,qwen3_5_moe,qwen3_5_vision
# qwen3_5            Qwen3_5RMSNormGated                     3    3/3      qwen3_5,qwen3_5_moe,qwen3_5_vision
# qwen3_5            Qwen3_5VisionPatchEmbed                 1    2/2      qwen3_5_vision
# qwen3_5            Qwen3_5VisionEncoder                    1    1/7      qwen3_5_vision
# phi3               Phi3LayerNorm                           5    5/5      phi3
# gpt_oss            GptOssLayerNormalization                5    5/5      gpt_oss
# deberta_v3         RelativeEmbedding                       1    3/3      deberta_v3
# roformer_v2        RoformerNorm                            5    5/5      roformer_v2
# xlnet              XLNetAttentionMaskLayer                 1    1/1      xlnet
# t5                 T5LayerNorm                            24   24/24     t5,t5_untied
# edrec              EdRecRMSNormalization                  10   10/10     edrec
# vit                ViTPatchingAndEmbedding                 3   11/11     vit,blip2,parseq
# vit                ViTEncoder                              3    6/6      vit,blip2,parseq
# deit               DeiTEmbeddings                          1    5/5      deit
# deit               DeiTEncoder                             1    2/2      deit
# dinov2             DINOV2Embedding                         3   19/19     dinov2,dinov2_swiglu,depth_anything
# dinov3             DINOV3Embedding                         2   10/10     dinov3,dinov3_gated
# vit_det            ViTDetPatchingAndEmbedding              2    4/4      vit_det,sam
# vit_det            AddPositionalEmbedding                  2    2/2      vit_det,sam
# clip               CLIPVisionEmbedding                     2    6/8      clip_vision,clip
# metaclip_2         MetaCLIP2VisionEmbedding                2    6/6      metaclip_2_vision,metaclip_2
# siglip             SigLIPVisionEmbedding                   2    6/8      siglip_vision,siglip
# siglip             SigLIPTextEmbedding                     2    4/6      siglip_text,siglip
# siglip             SigLIPMultiHeadAttentionPooling         2   30/30     siglip_vision,siglip
# blip2              BLIP2QueryTokens                        1    1/1      blip2
# blip2              BLIP2OPTEmbeddings                      1    2/2      blip2
# video_prism        VideoPrismEncoder                       6   10/10     video_prism,video_prism_text
# video_prism        VideoPrismPatchingAndEmbedding          2    6/6      video_prism,video_prism_text
# video_prism        VideoPrismTemporalEmbedding             2    2/2      video_prism,video_prism_text
# video_prism        VideoPrismClassToken                    1    1/1      video_prism_text
# video_prism        VideoPrismAttenTokenPoolingLayer        1   11/11     video_prism_text
# parseq             PARSeqDecoder                           1    3/4      parseq
# swin_transformer   PatchEmbedding                          1    4/4      swin_transformer
# mit                OverlappingPatchingAndEmbedding         4   16/16     mit,segformer
# sam                TwoWayTransformer                       1   10/10     sam
# sam3               SAM3Embedding                           1    3/3      sam3
# sam3               SAM3MaskDecoder                         1   10/28     sam3
# stable_diffusion_3 PatchEmbedding                          3    6/6      mmdit,mmdit_qk_norm_dual,stable_diffusion_3
# layers             RMSNormalization                       12   12/12     flux
