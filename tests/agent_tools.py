"""Function tools shared by the tests that drive real Runner runs."""

from __future__ import annotations

from agents import function_tool


@function_tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"It is sunny and 21 degrees in {city}."
