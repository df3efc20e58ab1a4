"""Sanitised Markdown as Django-safe strings, for templates.

courses.rendering (plain Python) escapes and sanitises with nh3; this is the one place
where its output is marked safe, so nothing else in the project calls mark_safe on text
that an author, a learner or the model wrote.
"""

from django.utils.safestring import SafeString, mark_safe

from courses.rendering import render_inline, render_markdown


def markdown_html(text: str) -> SafeString:
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by nh3 in render_markdown


def inline_html(text: str) -> SafeString:
    return mark_safe(render_inline(text))  # noqa: S308 - sanitised by nh3 in render_inline
