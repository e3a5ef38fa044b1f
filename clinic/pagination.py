"""Long lists are cut, not counted: a person pages through hundreds, never thousands."""

#: A list or search longer than this is cut there: it needs narrowing, not counting.
COUNT_CAP = 500
