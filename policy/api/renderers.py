"""DRF's JSON, written by orjson: the same bytes, several times faster.

orjson writes compact UTF-8 JSON as DRF does with its default settings (UNICODE_JSON and
COMPACT_JSON). Everything orjson does not write the same way goes to DRF's encoder: dates and
times, Decimals, lazy translations. What orjson refuses (a key that is not a string, an integer
beyond 64 bits) and every other layout (an indent asked for, as the browsable API does) is
written by DRF itself.
"""

import orjson
from rest_framework import renderers


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        indent = self.get_indent(accepted_media_type, renderer_context or {})
        if data is None or indent is not None or self.ensure_ascii or not self.compact:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            content = orjson.dumps(
                data,
                default=self.encoder_class().default,
                option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS,
            )
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF does, so that the JSON is valid JavaScript too.
        return content.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
