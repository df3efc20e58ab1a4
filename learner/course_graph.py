"""A course as the learner side sees it: concepts, the prerequisite DAG, items (plain Python).

:class:`CourseGraph` is what placement (:mod:`learner.placement`), the policy
(:mod:`tutor.policy`) and the simulation (:mod:`benchmarks.simulation`) work on. The Django
side builds one per course version (``learner.graph_from_db``); :func:`graph_from_spec`
builds one from a ramp folder read by ``courses.ramp_files.read_ramp``; :func:`random_ramp`
generates DAGs for benchmarks.

Everything derived from the graph (indices, ancestor sets, items by id, sorted item
lists) is computed once per graph object and cached on it (``functools.cached_property``),
so the hot path never rebuilds it: keep one graph object per course version.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from statistics import median


@dataclass(frozen=True)
class ItemInfo:
    id: str  # stable item id (the Django side uses str(Item.pk))
    concept: str  # concept key (the concept slug)
    difficulty: float  # logit scale, 0 = typical; authored prior or calibrated
    n_choices: int = 0  # multiple_choice: number of choices (guessing rate); 0 otherwise
    is_template: bool = False  # a template yields fresh variants, so it can be re-served
    probes: frozenset[str] = frozenset()  # misconception slugs this item can diagnose
    n_hints: int = 0  # authored hints (the policy may show the first ones up front)

    @property
    def guess_rate(self) -> float:
        """Chance of a right answer by guessing (1/choices for multiple choice)."""
        return 1.0 / self.n_choices if self.n_choices >= 2 else 0.0


@dataclass(frozen=True, eq=False)
class CourseGraph:
    """Concepts in authoring order (a topological order), their direct prerequisites and
    their items. Equality and hashing are by identity (so a graph can key caches)."""

    concepts: tuple[str, ...]
    prerequisites: Mapping[str, tuple[str, ...]]
    items: Mapping[str, tuple[ItemInfo, ...]]
    target_success: float = 0.85
    mastery_threshold: float = 0.95

    # ---- structure computed once per graph ------------------------------------------------
    @cached_property
    def index(self) -> dict[str, int]:
        """concept -> position in :attr:`order` (a topological order)."""
        return {c: i for i, c in enumerate(self.order)}

    @cached_property
    def order(self) -> tuple[str, ...]:
        """A topological order (prerequisites first) that follows the authoring order
        wherever the prerequisites allow; equals :attr:`concepts` for a well-formed ramp.
        Prerequisites that are not concepts of the graph are ignored."""
        known = set(self.concepts)
        pos = {c: i for i, c in enumerate(self.concepts)}
        pre = {c: [p for p in self.prerequisites.get(c, ()) if p in known and p != c] for c in self.concepts}
        if all(pos[p] < pos[c] for c in self.concepts for p in pre[c]):
            return tuple(self.concepts)
        import heapq

        indeg = {c: len(set(pre[c])) for c in self.concepts}
        dep: dict[str, list[str]] = {c: [] for c in self.concepts}
        for c in self.concepts:
            for p in set(pre[c]):
                dep[p].append(c)
        heap = [(pos[c], c) for c in self.concepts if indeg[c] == 0]
        heapq.heapify(heap)
        out = []
        while heap:
            _, c = heapq.heappop(heap)
            out.append(c)
            for d in dep[c]:
                indeg[d] -= 1
                if indeg[d] == 0:
                    heapq.heappush(heap, (pos[d], d))
        if len(out) != len(self.concepts):
            stuck = sorted(c for c in self.concepts if indeg[c] > 0)
            raise ValueError(f"prerequisite graph has a cycle through {stuck[0]!r}")
        return tuple(out)

    @cached_property
    def prereq_idx(self) -> tuple[tuple[int, ...], ...]:
        """Direct prerequisites as indices into :attr:`order`."""
        idx = self.index
        return tuple(
            tuple(sorted({idx[p] for p in self.prerequisites.get(c, ()) if p in idx and p != c}))
            for c in self.order
        )

    @cached_property
    def children_idx(self) -> tuple[tuple[int, ...], ...]:
        """Direct dependents (concepts listing it as a prerequisite), as indices."""
        kids: list[list[int]] = [[] for _ in self.order]
        for i, ps in enumerate(self.prereq_idx):
            for p in ps:
                kids[p].append(i)
        return tuple(tuple(k) for k in kids)

    @cached_property
    def _ancestor_sets(self) -> tuple[frozenset[str], ...]:
        out: list[frozenset[str]] = []
        for i in range(len(self.order)):
            s: set[str] = set()
            for p in self.prereq_idx[i]:
                s.add(self.order[p])
                s |= out[p]
            out.append(frozenset(s))
        return tuple(out)

    @cached_property
    def _descendant_sets(self) -> dict[str, frozenset[str]]:
        n = len(self.order)
        sets: list[set[str]] = [set() for _ in range(n)]
        for i in range(n - 1, -1, -1):
            for k in self.children_idx[i]:
                sets[i].add(self.order[k])
                sets[i] |= sets[k]
        return {self.order[i]: frozenset(sets[i]) for i in range(n)}

    @cached_property
    def depth(self) -> dict[str, int]:
        """Longest chain of prerequisites below each concept (roots: 0)."""
        d: list[int] = []
        for i in range(len(self.order)):
            d.append(1 + max((d[p] for p in self.prereq_idx[i]), default=-1))
        return {c: d[i] for i, c in enumerate(self.order)}

    @cached_property
    def item_by_id(self) -> dict[str, ItemInfo]:
        return {it.id: it for c in self.concepts for it in self.items.get(c, ())}

    @cached_property
    def items_by_difficulty(self) -> dict[str, tuple[ItemInfo, ...]]:
        """Each concept's items, easiest first (ties: authoring order)."""
        return {c: tuple(sorted(self.items.get(c, ()), key=lambda it: it.difficulty)) for c in self.concepts}

    @cached_property
    def reference_difficulty(self) -> dict[str, float]:
        """Each concept's *typical question*: the median difficulty of its items (0 without
        items). Proficiency on a concept is measured against it, and "mastered" means a
        typical question *of that concept* is answered right 80% of the time (the tracker) or
        90% (the simulated truth). Authors write difficulties on one scale for the whole ramp
        (the fractions ramp's first concept has items at -3.0..-2.2); until 2026-12-05 mastery
        was measured against difficulty 0, so a concept whose questions were all easy could
        never be shown to be mastered by its own questions, and learners practised it for
        hundreds of items."""
        return {
            c: float(median(it.difficulty for it in self.items[c])) if self.items.get(c) else 0.0
            for c in self.concepts
        }

    # ---- helpers --------------------------------------------------------------------------
    def with_difficulties(self, difficulties: Mapping[str, float]) -> CourseGraph:
        """A copy whose items have these difficulties (item id -> logits; items not named keep
        theirs): the course as the study loop sees it after a calibration."""
        items = {
            c: tuple(replace(it, difficulty=float(difficulties.get(it.id, it.difficulty))) for it in its)
            for c, its in self.items.items()
        }
        return CourseGraph(
            concepts=self.concepts,
            prerequisites=self.prerequisites,
            items=items,
            target_success=self.target_success,
            mastery_threshold=self.mastery_threshold,
        )

    def relative_difficulty(self, item: ItemInfo, difficulty: float | None = None) -> float:
        """``item``'s difficulty (or ``difficulty``, e.g. a calibrated one) relative to its
        concept's typical question (:attr:`reference_difficulty`)."""
        d = item.difficulty if difficulty is None else difficulty
        return d - self.reference_difficulty.get(item.concept, 0.0)

    def ancestors(self, concept: str) -> frozenset[str]:
        """All transitive prerequisites of ``concept``."""
        return self._ancestor_sets[self.index[concept]]

    def descendants(self, concept: str) -> frozenset[str]:
        """All concepts that transitively build on ``concept``."""
        return self._descendant_sets[concept]

    def prereqs(self, concept: str) -> tuple[str, ...]:
        """Direct prerequisites that are concepts of this graph."""
        return tuple(self.order[p] for p in self.prereq_idx[self.index[concept]])


# ---- building graphs -----------------------------------------------------------------------


def graph_from_spec(course) -> CourseGraph:
    """A graph from a ``courses.specs.CourseSpec`` (e.g. ``read_ramp(path)``). Item ids are
    ``"<concept>/<item slug>"``. An item probes the misconceptions it lists, and the
    concept's misconceptions that it can recognise (their match kind fits its type)."""
    from courses.specs import MATCH_KINDS_FOR_TYPE

    items: dict[str, tuple[ItemInfo, ...]] = {}
    for c in course.concepts:
        out = []
        for it in c.items:
            kinds = MATCH_KINDS_FOR_TYPE.get(it.type, ("pattern",))
            probes = {m.slug for m in it.misconceptions}
            probes |= {m.slug for m in c.misconceptions if m.match is not None and m.match.kind in kinds}
            out.append(
                ItemInfo(
                    id=f"{c.slug}/{it.slug}",
                    concept=c.slug,
                    difficulty=float(it.difficulty),
                    n_choices=len(it.choices) if it.type == "multiple_choice" else 0,
                    is_template=bool(it.is_template),
                    probes=frozenset(probes),
                    n_hints=len(it.hints),
                )
            )
        items[c.slug] = tuple(out)
    return CourseGraph(
        concepts=tuple(c.slug for c in course.concepts),
        prerequisites={c.slug: tuple(c.prerequisites) for c in course.concepts},
        items=items,
        target_success=float(course.target_success),
        mastery_threshold=float(course.mastery_threshold),
    )


def random_ramp(
    n_concepts: int,
    *,
    seed: int,
    items_per_concept: int = 5,
    max_prereqs: int = 3,
    locality: int = 6,
    misconceptions_per_concept: float = 1.0,
    multiple_choice_share: float = 0.25,
    template_share: float = 0.8,
    target_success: float = 0.85,
    mastery_threshold: float = 0.95,
) -> CourseGraph:
    """A generated ramp for benchmarks: concept ``k`` builds on 1..``max_prereqs`` earlier
    concepts, mostly among the ``locality`` previous ones (so the DAG is deep like a real
    ramp, not a flat bag), with occasional long-range prerequisites; a few roots.

    Items spread over difficulties -1.5..+2.5 logits (easiest first), some multiple choice
    (3-5 choices), most of them templates (the shares are those of the two shipped ramps:
    315 of their 395 items are templates, 97 multiple choice; until 2026-11-28 the generator
    used 40% templates, which left concepts with too few fresh items at the right
    difficulty); each concept has about ``misconceptions_per_concept`` misconceptions, each
    detectable by roughly half of its items (at least one). Every item has 1-3 hints, like the
    shipped ramps' items (drawn from their own random stream, so adding them in 2026-12 left
    the generated graphs and difficulties as they were).
    Deterministic in ``seed``.
    """
    rng = random.Random(seed)
    hint_rng = random.Random(f"{seed}:hints")
    names = [f"c{k:03d}" for k in range(n_concepts)]
    prereqs: dict[str, tuple[str, ...]] = {}
    n_roots = max(1, n_concepts // 25)
    for k, c in enumerate(names):
        if k < n_roots:
            prereqs[c] = ()
            continue
        want = 1 + min(max_prereqs - 1, int(rng.random() ** 1.5 * max_prereqs))
        chosen: set[int] = {k - 1 - min(k - 1, int(rng.expovariate(1 / 1.5)))}
        while len(chosen) < min(want, k):
            if rng.random() < 0.8:
                j = k - 1 - rng.randrange(min(locality, k))
            else:
                j = rng.randrange(k)
            chosen.add(j)
        prereqs[c] = tuple(names[j] for j in sorted(chosen))
    items: dict[str, tuple[ItemInfo, ...]] = {}
    for c in names:
        n_mis = int(misconceptions_per_concept) + (1 if rng.random() < misconceptions_per_concept % 1 else 0)
        slugs = [f"{c}-m{j}" for j in range(n_mis)]
        out = []
        for j in range(items_per_concept):
            base = -1.5 + 4.0 * j / max(1, items_per_concept - 1)
            d = round(base + rng.gauss(0.0, 0.25), 3)
            mc = rng.random() < multiple_choice_share
            probes = frozenset(s for s in slugs if rng.random() < 0.5 or j == 0)
            out.append(
                ItemInfo(
                    id=f"{c}/i{j}",
                    concept=c,
                    difficulty=d,
                    n_choices=rng.choice((3, 4, 5)) if mc else 0,
                    is_template=rng.random() < template_share,
                    probes=probes,
                    n_hints=hint_rng.randint(1, 3),
                )
            )
        items[c] = tuple(out)
    return CourseGraph(
        concepts=tuple(names),
        prerequisites=prereqs,
        items=items,
        target_success=target_success,
        mastery_threshold=mastery_threshold,
    )
