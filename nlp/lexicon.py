"""An explainable lexicon classifier, the default that works with no training.

Themes: a theme's cues are its keywords (found anywhere in the text) and, where the taxonomy
has them, its regex `patterns`. Where two cues overlap, the longer one wins (安全生产奖 hides
安全生产). Whom a letter addresses (尊敬的书记, 恳请领导) is left out: it is not what the letter
is about. The weights of the cues found are added up; a theme whose sum reaches
`theme_threshold` is tagged, strongest first, at most `max_themes`; a second or third theme must
also weigh half the first or have one unambiguous cue (weight 3), so that words in passing do
not add themes. The fallback theme's own keywords mark posts that are not grievances
(chit-chat, ads, other companies): when they outweigh every other theme, the post is the
fallback alone.

Sentiment is scored clause by clause over jieba tokens. A sentiment word is flipped by a
negation just before it, scaled by a degree word (非常, 太 …), and ignored after a wish or
request (希望…解决 is not praise). The clause after a contrast (但是, 可是 …) counts more than
what came before it. Praise in short scare quotes (“好”领导) or next to a sarcasm marker (呵呵)
counts against, and so does praise in a clause that ends as a question (这公平吗). A negated
complaint word counts for nothing (不是不发 is no praise); thanks in a formal letter (尊敬的…此致)
are mostly courtesy. Entries without letters (emoji, ？？) are found in the raw text.
A grievance reported as settled (工资今天全部发了, 终于批下来了) counts as praise ("resolved:").
Complaints are often plain statements of fact, so a post that raises a grievance and is not
clearly positive leans negative by `grievance_prior`, unless it reports a resolution or reads as
an inquiry, a notice or news (`neutral_cues`, or a question that asks for information — 有没有,
什么时候…？ — with no clear complaint), whose score is damped towards neutral instead. Every tag
carries the cues that caused it: theme → the words and patterns found; "sentiment" → signed
cue strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

from nlp.segment import Segmenter, get_segmenter
from yuqing.schema import Classification
from yuqing.settings import Taxonomy

CONTRAST = ("但是", "可是", "但", "却", "然而", "不过", "而是")
_WINDOW = 3  # tokens before a sentiment word in which a negation, degree or wish word applies

# Language-level cues, not theme ids. Each is the default of an optional `sentiment.<name>`
# key in taxonomy.yaml: where the taxonomy sets that key, its value is used instead.
IRREALIS = (
    "希望", "恳请", "请求", "盼", "盼望", "期盼", "能否", "能不能", "可否", "是否", "要求",
    "应该", "应当", "理应", "建议", "如果", "要是", "只要", "早日", "尽快",
)  # fmt: skip
NEUTRAL_CUES = (
    # inquiries
    "请问", "想问", "问一下", "问下", "问问", "咨询", "请教", "求问", "有没有人知道",
    "有人知道", "谁知道", "有知道的", "知道的说", "有懂的", "懂的说", "有没有懂", "有经历过",
    "怎么申请", "去哪", "在哪里", "哪个部门", "怎么办理", "如何办理", "需要哪些", "需要什么",
    "要准备", "什么材料", "流程", "能申请吗", "怎么领", "怎么算", "有没有准信",
    # suggestions
    "建议",
    # notices and news
    "本报讯", "记者", "近日", "日前", "获悉", "据了解", "据悉", "通报", "召开", "举办", "举行",
    "开展", "启动", "出台", "印发", "公告", "报名", "科普",
)  # fmt: skip
SARCASM = ("呵呵", "🙃", "好一个", "不愧是", "可真是", "真是好")
COURTESY = ("尊敬的", "此致", "敬礼", "百忙之中")  # a formal letter: its thanks are courtesy
GRIEVANCE_PRIOR = 1.0  # how far a post that raises a grievance leans negative
NEUTRAL_DAMP = 0.5  # the score of an inquiry or notice is scaled by this
COURTESY_DAMP = 0.3  # praise in a formal letter is scaled by this

# Who a letter is addressed to (尊敬的领导, 请领导…) is not what it complains about: these spans
# are left out of theme matching.
_ADDRESS = re.compile(
    r"(尊敬的|敬爱的|亲爱的)[^，,：:。！!\n]{0,12}"
    r"|(恳请|请求|请|希望|麻烦|感谢|谢谢)(各位|有关|相关|上级|集团|公司)?(领导|书记|部门)"
    r"|(领导|书记|主任)(您好|你好)"
)
# A question that asks for information (有没有…？ 能不能…吗？ 什么时候发？): an inquiry.
_ASKING = re.compile(
    r"(有没有|有无|能不能|能否|可不可以|可以吗|会不会|是不是|还有没有|算不算|行不行|如何|"
    r"多少|哪|什么时候|啥时候|几时|谁知道|没)[^，,。！!？?\n]{0,6}[？?]"
    r"|(能|可以|还有|有|要|会|是|出了|发了|定了)[^，,。！!？?\n不没]{0,10}吗[？?]"
)
# A grievance reported as settled (工资终于补发了, 认定下来了): the post is about a resolution.
_RESOLVED = re.compile(
    r"(终于|总算|已经|已|今天|全部|都)[^，,。！!？?\n不没未]{0,8}"
    r"(发|补|结|到账|到卡|打到|批|办|解决|落实|兑现|恢复|修好|装|换|转正|考上|考进|下来|认定)"
    r"[^，,。！!？?\n不没未]{0,4}了"
)
# 好 alone is too common to be praise, but 明显好了, 改得好, 比以前好 are (not after 不/没).
_PRAISE_FORMS = re.compile(
    r"(?<![不没])(明显|确实|真的|真|挺|很|特别|越来越|比以前|比原来|改得|做得|办得|干得|安排得|"
    r"搞得|这个)好(?!不好|吗|嘛)"
)
PRAISE_FORM_WEIGHT = 1.5
RESOLUTION_WEIGHT = 1.5  # a settled grievance counts as this much praise
# A second or third theme needs this share of the first one's weight, or one unambiguous cue.
SECONDARY_RATIO = 0.5
UNAMBIGUOUS = 3.0

CLAUSE_MARKS = "，,。！!？?；;：:\n…～~"
_CLAUSE = re.compile(f"[{CLAUSE_MARKS}]+")
_PLAIN_PRAISE = "好"
_QUESTION = ("吗", "嘛")  # a clause ending so asks; praise in it is a challenge (这公平吗)
_QUOTED = re.compile(r"[“\"「『‘]([^“”\"「」『』‘’\n]{1,6})[”\"」』’]")
_WORDLIKE = re.compile(r"\w")


def taxonomy_words(taxonomy: Taxonomy) -> set[str]:
    """Every cue word in the taxonomy: the jieba user dictionary keeps them whole."""
    words: set[str] = set()
    for theme in taxonomy.themes:
        words.update(theme.keywords)
    lex = taxonomy.sentiment
    words.update(lex.negative, lex.positive, lex.negations, lex.degree)
    words.update(_option(lex, "irrealis", IRREALIS))
    return {w for w in words if len(w) > 1 and _WORDLIKE.search(w)}


def _option(model: object, name: str, default: Sequence[str]) -> tuple[str, ...]:
    value = getattr(model, name, None)
    return tuple(default if value is None else value)


class LexiconClassifier:
    name = "lexicon"

    def __init__(self, taxonomy: Taxonomy, segmenter: Segmenter | None = None):
        self.taxonomy = taxonomy
        self.segmenter = segmenter or get_segmenter(taxonomy_words(taxonomy))
        self._keywords: dict[str, list[tuple[str, float]]] = {}
        self._patterns: list[tuple[str, re.Pattern[str], float]] = []
        for theme in taxonomy.themes:
            for word, weight in theme.keywords.items():
                self._keywords.setdefault(word, []).append((theme.id, weight))
            patterns: Mapping[str, float] = getattr(theme, "patterns", None) or {}
            self._patterns += [(theme.id, re.compile(p), w) for p, w in patterns.items()]
        self._by_first: dict[str, list[str]] = {}  # first character → keywords, to skip most
        for word in self._keywords:
            self._by_first.setdefault(word[0], []).append(word)
        lex = taxonomy.sentiment
        polarity = {w: -s for w, s in lex.negative.items()}
        polarity.update(lex.positive)
        self._polarity = {w: v for w, v in polarity.items() if _WORDLIKE.search(w)}
        self._symbols = {w: v for w, v in polarity.items() if not _WORDLIKE.search(w)}
        self._negations = set(lex.negations)
        self._degree = dict(lex.degree)
        self._irrealis = set(_option(lex, "irrealis", IRREALIS))
        self._neutral = _option(lex, "neutral_cues", NEUTRAL_CUES)
        self._sarcasm = _option(lex, "sarcasm", SARCASM)
        self._courtesy = _option(lex, "courtesy", COURTESY)
        prior = getattr(lex, "grievance_prior", None)
        self._prior = GRIEVANCE_PRIOR if prior is None else prior

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        return [self._one(t) for t in texts]

    def classify_themes(self, texts: Sequence[str]) -> list[Classification]:
        """Themes and their cues only, with no sentiment (and no jieba: themes come from
        keyword and pattern matches), for a classifier that has its own sentiment."""
        out = []
        for text in texts:
            found = self._theme_cues(text)
            themes = self._decide(found)
            out.append(
                Classification(themes=themes, cues=self._cues(found, themes), classifier=self.name)
            )
        return out

    def _cues(self, found: dict[str, dict[str, float]], themes: list[str]) -> dict[str, list[str]]:
        """Each theme's cues, the heaviest first."""
        return {t: sorted(found[t], key=lambda k: (-found[t][k], k)) for t in themes if t in found}

    def _one(self, text: str) -> Classification:
        found = self._theme_cues(text)
        themes = self._decide(found)
        score, sentiment_cues = self._sentiment(text, themes != [self.taxonomy.fallback])
        threshold = self.taxonomy.sentiment.threshold
        if score <= -threshold:
            sentiment = "negative"
        elif score >= threshold:
            sentiment = "positive"
        else:
            sentiment = "neutral"
        cues = self._cues(found, themes)
        if sentiment_cues:
            cues["sentiment"] = sentiment_cues
        return Classification(
            themes=themes,
            sentiment=sentiment,
            sentiment_score=round(math.tanh(score / 3), 4),
            cues=cues,
            classifier=self.name,
        )

    # --- themes ------------------------------------------------------------------------

    def _matches(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, word) of every keyword occurrence not inside a longer one."""
        spans = []
        candidates = (w for c in set(text) for w in self._by_first.get(c, ()))
        for word in candidates:
            start = text.find(word)
            while start != -1:
                spans.append((start, start + len(word), word))
                start = text.find(word, start + 1)
        spans.sort(key=lambda s: (s[0] - s[1], s[0]))  # longest first
        kept: list[tuple[int, int, str]] = []
        for start, end, word in spans:
            if not any(s <= start and end <= e for s, e, _ in kept):
                kept.append((start, end, word))
        return kept

    def _theme_cues(self, text: str) -> dict[str, dict[str, float]]:
        """theme → {cue: weight} for every cue found, leaving out whom a letter addresses."""
        text = _ADDRESS.sub(lambda m: " " * len(m.group(0)), text)
        found: dict[str, dict[str, float]] = {}
        for _, _, word in self._matches(text):
            for theme_id, weight in self._keywords[word]:
                found.setdefault(theme_id, {})[word] = weight
        for theme_id, pattern, weight in self._patterns:
            match = pattern.search(text)
            if match:  # a pattern that matches a keyword exactly does not lower its weight
                cues = found.setdefault(theme_id, {})
                cues[match.group(0)] = max(weight, cues.get(match.group(0), 0.0))
        return found

    def _decide(self, found: dict[str, dict[str, float]]) -> list[str]:
        """The strongest themes over the threshold; a second or third one must also weigh a
        share of the first; the fallback alone when its own cues weigh as much as any theme."""
        fallback = self.taxonomy.fallback
        totals = {t: sum(cues.values()) for t, cues in found.items()}
        tagged = sorted(
            (t for t, total in totals.items() if total >= self.taxonomy.theme_threshold),
            key=lambda t: (-totals[t], t),
        )
        themes = [t for t in tagged if t != fallback]
        if fallback in tagged and (not themes or totals[fallback] >= totals[themes[0]]):
            return [fallback]  # not a grievance: chit-chat, an ad, another company
        if not themes:
            return [fallback]
        top = totals[themes[0]]
        themes = [
            t
            for t in themes
            if totals[t] >= SECONDARY_RATIO * top or max(found[t].values()) >= UNAMBIGUOUS
        ]
        return themes[: self.taxonomy.max_themes]

    # --- sentiment ---------------------------------------------------------------------

    def _clauses(self, text: str) -> list[list[tuple[str, bool]]]:
        """The text's clauses as (token, inside short scare quotes) pairs. Every cue is in the
        jieba user dictionary, so jieba's HMM (new-word discovery) is off: it would only slow
        the cut, or join a negation such as 没 to the characters after it."""
        if not _QUOTED.search(text):  # one jieba pass, split at the clause marks
            pieces = self.segmenter.cut_pieces(text, CLAUSE_MARKS, hmm=False)
            return [[(t, False) for t in c] for c in pieces]
        clauses = []
        for clause in _CLAUSE.split(text):
            tokens: list[tuple[str, bool]] = []
            for i, part in enumerate(_QUOTED.split(clause)):
                tokens.extend((t, i % 2 == 1) for t in self.segmenter.cut(part, hmm=False))
            if tokens:
                clauses.append(tokens)
        return clauses

    def _sentiment(self, text: str, grievance: bool) -> tuple[float, list[str]]:
        irony = next((m for m in self._sarcasm if m in text), None)
        courtesy = COURTESY_DAMP if any(m in text for m in self._courtesy) else 1.0
        score = 0.0
        cues: list[str] = []
        clause_weight = 1.0
        for clause in self._clauses(text):
            words = [t for t, _ in clause]
            question = words[-1] if words[-1] in _QUESTION else None
            for i, (token, quoted) in enumerate(clause):
                if token in CONTRAST:
                    # What came before a contrast matters less than what follows it.
                    score *= 0.5
                    clause_weight = 1.5
                    continue
                valued = self._word(token, words[max(0, i - _WINDOW) : i])
                if valued is None and quoted and token.startswith(_PLAIN_PRAISE):
                    valued = (1.0, token)  # 好 is too common to be praise, except in quotes
                if valued is None:
                    continue
                value, label = valued[0] * clause_weight, valued[1]
                if value > 0 and (quoted or irony or question):
                    # “好”领导, 呵呵, 这公平吗: praise that means the opposite
                    value = -value
                    label = f"“{token}”" if quoted else f"{token}[{irony or question}]"
                elif value > 0:
                    value *= courtesy
                score += value
                cues.append(f"{label}({value:+.1f})")
        praise = _PRAISE_FORMS.search(text)
        if praise and not irony:
            score += PRAISE_FORM_WEIGHT * courtesy
            cues.append(f"{praise.group(0)}(+{PRAISE_FORM_WEIGHT * courtesy:.1f})")
        resolved = _RESOLVED.search(text)
        if resolved:
            score += RESOLUTION_WEIGHT
            cues.append(f"resolved:{resolved.group(0)}(+{RESOLUTION_WEIGHT})")
        for symbol, polarity in self._symbols.items():
            if symbol in text:
                score += polarity
                cues.append(f"{symbol}({polarity:+.1f})")
        return self._lean(text, grievance, score, cues)

    def _word(self, token: str, window: list[str]) -> tuple[float, str] | None:
        """The signed value of one sentiment word given the tokens just before it, or None."""
        polarity = self._polarity.get(token)
        if polarity is None:
            return None
        if polarity > 0 and any(t in self._irrealis for t in window):
            return None  # a wish or a request (希望…解决), not praise
        negated = _odd(t in self._negations for t in window)
        if negated and polarity < 0:
            return None  # 不是不发, 没人管吗: a negated complaint is rarely praise
        degree = math.prod(self._degree.get(t, 1.0) for t in window)
        if negated:
            return -0.8 * polarity * degree, "不" + token
        return polarity * degree, token

    def _lean(
        self, text: str, grievance: bool, score: float, cues: list[str]
    ) -> tuple[float, list[str]]:
        """Damp an inquiry or notice towards neutral; lean a plain grievance negative."""
        neutral = next((c for c in self._neutral if c in text), None)
        if neutral is None and score > -self.taxonomy.sentiment.threshold:
            asking = _ASKING.search(text)  # a question with no clear complaint: an inquiry
            neutral = asking.group(0) if asking else None
        if neutral:
            if score or grievance:
                cues.append(f"{neutral}(×{NEUTRAL_DAMP})")
            return score * NEUTRAL_DAMP, cues
        resolved = any(c.startswith("resolved:") for c in cues)
        if grievance and self._prior and score < self.taxonomy.sentiment.threshold and not resolved:
            cues.append(f"grievance({-self._prior:+.1f})")
            return score - self._prior, cues
        return score, cues


def _odd(flags: Iterable[bool]) -> bool:
    return sum(flags) % 2 == 1
