"""Synthetic but realistic contacts for demos, benchmarks and tests.

``generate_contacts(count, seed, now)`` yields field dicts that
``engine.model.new_contact(fields, now)`` accepts. The data mimics a European
sales team's inbox: names and companies in several languages and scripts,
sources with their own activity patterns, BANT known mostly for engaged
contacts, a few customers, ambassadors, lost deals and suspects, and roughly
one contact in 200 carrying markup-like or hostile text to keep front ends
honest.

Determinism: every random draw goes through one ``random.Random(seed)``; no
wall clock, no global random, no ``hash()`` of strings, no iteration over
sets. Speed: every table is built once at import, so a contact costs a few
dozen draws.
"""

from __future__ import annotations

import random
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Generic, Iterator, Sequence, TypeVar

T = TypeVar("T")

DAY = 86_400
PRICE = 5_000  # the product price the budget amounts are spread around


class _Weighted(Generic[T]):
    """A weighted choice table: a pick is one ``random()`` and one bisect."""

    __slots__ = ("options", "cum", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.options = tuple(item for item, _ in pairs)
        cum: list[float] = []
        total = 0.0
        for _, weight in pairs:
            total += weight
            cum.append(total)
        self.cum = tuple(cum)
        self.total = total

    def pick(self, rng: random.Random) -> T:
        # hi= keeps a float that rounds up to the total on the last option.
        return self.options[bisect_right(self.cum, rng.random() * self.total, 0,
                                         len(self.cum) - 1)]


# randint and choice each go through several Python-level calls; with a few
# hundred thousand draws per 10,000 contacts these plain forms are cheaper.
def _int(rng: random.Random, low: int, high: int) -> int:
    """A whole number in [low, high]."""
    return low + int(rng.random() * (high - low + 1))


def _one(rng: random.Random, options: Sequence[T]) -> T:
    return options[int(rng.random() * len(options))]


# --------------------------------------------------------------------------
# Transliteration (only at import time: names are slugged once, not per contact)

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
}
# Letters NFKD cannot take apart, plus the German and Nordic email conventions.
_SPECIAL = {
    "ł": "l", "ø": "o", "æ": "ae", "å": "aa", "ß": "ss", "ä": "ae", "ö": "oe", "ü": "ue",
}
_TRANSLIT = str.maketrans({
    **_CYRILLIC, **{key.upper(): value for key, value in _CYRILLIC.items()},
    **_SPECIAL, **{key.upper(): value for key, value in _SPECIAL.items() if key != "ß"},
})


def _slug(text: str) -> str:
    """Lowercase ASCII letters and digits only: safe in an email or a domain."""
    plain = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(ch for ch in plain.lower() if ch.isascii() and ch.isalnum())


def _part(entry: str) -> tuple[str, str]:
    """``"王:wang"`` gives an explicit romanisation; otherwise transliterate."""
    display, _, roman = entry.partition(":")
    return display, roman or _slug(display)


# --------------------------------------------------------------------------
# Locales: names, companies, titles, countries, free-mail domains

@dataclass(frozen=True)
class _Company:
    name: str
    domain: str
    industry: str | None  # None: the name says nothing, pick one at random


@dataclass(frozen=True)
class _Locale:
    male: tuple[tuple[str, str], ...]
    female: tuple[tuple[str, str], ...]
    # (male display, female display, male slug, female slug)
    surnames: tuple[tuple[str, str, str, str], ...]
    family_first: bool  # East Asian order: family name first
    joiner: str  # "" for Chinese and Korean names, " " otherwise
    companies: tuple[_Company, ...]
    titles: tuple[tuple[str, bool], ...]  # local-language titles (title, decides?)
    countries: _Weighted[str]
    free_mail: tuple[str, ...]
    double_surname: float = 0.0  # Spanish: chance of a second surname


def _surnames(entries: Sequence[str]) -> tuple[tuple[str, str, str, str], ...]:
    """``"Kowalski|Kowalska"`` for languages whose surnames agree with gender."""
    table = []
    for entry in entries:
        male, _, female = entry.partition("|")
        male_display, male_slug = _part(male)
        female_display, female_slug = _part(female or male)
        table.append((male_display, female_display, male_slug, female_slug))
    return tuple(table)


def _companies(pattern: str, roots: Sequence[str], words: Sequence[tuple[str, str | None]],
               suffixes: Sequence[str], tlds: Sequence[str]) -> tuple[_Company, ...]:
    """Every root with every business word; suffix and domain style rotate by index."""
    companies = []
    for i, root_entry in enumerate(roots):
        root, root_slug = _part(root_entry)
        for j, (word_entry, industry) in enumerate(words):
            word, word_slug = _part(word_entry)
            name = pattern.format(root=root, word=word, suffix=suffixes[(i + j) % len(suffixes)])
            joint = "-" if (i + j) % 3 == 0 else ""
            tld = tlds[(i * 7 + j) % len(tlds)]
            companies.append(_Company(name, f"{root_slug}{joint}{word_slug}.{tld}", industry))
    return tuple(companies)


def _locale(male: str, female: str, surnames: Sequence[str], companies: tuple[_Company, ...],
            titles: Sequence[tuple[str, bool]], countries: Sequence[tuple[str, float]],
            free_mail: str, *, family_first: bool = False, joiner: str = " ",
            double_surname: float = 0.0) -> _Locale:
    return _Locale(
        male=tuple(_part(entry) for entry in male.split(",")),
        female=tuple(_part(entry) for entry in female.split(",")),
        surnames=_surnames(surnames),
        family_first=family_first,
        joiner=joiner,
        companies=companies,
        titles=tuple(titles),
        countries=_Weighted(countries),
        free_mail=tuple(free_mail.split(",")),
        double_surname=double_surname,
    )


_IND = ("software", "logistics", "energy", "media", "retail", None, "manufacturing",
        "finance", "healthcare")


def _words(entries: str) -> list[tuple[str, str | None]]:
    """Nine business words, in the order of ``_IND`` (the industry each implies)."""
    return list(zip(entries.split(","), _IND))


_LOCALES: dict[str, _Locale] = {
    "pl": _locale(
        "Łukasz,Piotr,Krzysztof,Paweł,Michał,Tomasz,Grzegorz,Wojciech,Jakub,Mateusz,Jędrzej",
        "Zofia,Katarzyna,Małgorzata,Agnieszka,Magdalena,Joanna,Anna,Barbara,Ewa,Żaneta,Jadwiga",
        ["Wiśniewski|Wiśniewska", "Kowalczyk", "Kowalski|Kowalska", "Nowak", "Wójcik",
         "Kamiński|Kamińska", "Lewandowski|Lewandowska", "Zieliński|Zielińska",
         "Szymański|Szymańska", "Woźniak", "Dąbrowski|Dąbrowska", "Kozłowski|Kozłowska",
         "Mazur", "Krawczyk", "Pawłowski|Pawłowska", "Król", "Jabłoński|Jabłońska",
         "Górski|Górska", "Ślusarczyk", "Żak"],
        _companies("{root} {word} {suffix}",
                   ["Wisła", "Orzeł", "Bursztyn", "Polmark", "Tatry", "Sokół", "Warta", "Żuraw"],
                   _words("Systemy,Logistyka,Energia,Media,Handel,Doradztwo,Przemysł,Finanse,"
                          "Medica"),
                   ["Sp. z o.o.", "S.A.", "sp.j."], ["pl", "com.pl"]),
        [("Dyrektor generalny", True), ("Prezes zarządu", True), ("Właściciel", True),
         ("Kierownik sprzedaży", False), ("Specjalista ds. marketingu", False),
         ("Księgowa", False)],
        [("Poland", 95), ("Germany", 3), ("United Kingdom", 2)],
        "wp.pl,onet.pl,gmail.com,o2.pl"),
    "nl": _locale(
        "Pieter,Jan,Daan,Sem,Bram,Thijs,Joost,Maarten,Ruud,Koen",
        "Sanne,Anouk,Lotte,Femke,Eva,Marieke,Fleur,Iris,Noor,Ilse",
        ["de Vries", "van Dijk", "van den Berg", "Jansen", "de Jong", "Bakker", "Visser",
         "Smit", "Meijer", "de Boer", "Mulder", "Bos", "van der Meer", "Dekker", "Brouwer"],
        _companies("{root} {word} {suffix}",
                   ["Oranje", "Delta", "Polder", "Tulp", "Molen", "Zeeland", "Gracht", "Duinzicht"],
                   _words("Software,Logistiek,Energie,Media,Handel,Advies,Industrie,Financiën,"
                          "Zorg"),
                   ["B.V.", "N.V.", "B.V."], ["nl"]),
        [("Directeur", True), ("Eigenaar", True), ("Accountmanager", False),
         ("Inkoper", False), ("Marketingmedewerker", False)],
        [("Netherlands", 94), ("Germany", 3), ("United Kingdom", 3)],
        "gmail.com,ziggo.nl,outlook.com,kpnmail.nl"),
    "es": _locale(
        "José,Javier,Alejandro,Manuel,Sergio,Pablo,Álvaro,Iñigo,Raúl,Andrés",
        "Lucía,María,Carmen,Laura,Paula,Marta,Sofía,Elena,Begoña,Nuria",
        ["Martínez", "Fernández", "García", "López", "Sánchez", "Pérez", "Gómez", "Ruiz",
         "Díaz", "Hernández", "Muñoz", "Jiménez", "Álvarez", "Romero", "Ibáñez"],
        _companies("{root} {word} {suffix}",
                   ["Ibérica", "Sol", "Castilla", "Andalucía", "Levante", "Ébano", "Mar Azul",
                    "Peñalara"],
                   _words("Sistemas,Logística,Energía,Medios,Comercial,Consultores,Industrial,"
                          "Finanzas,Salud"),
                   ["S.L.", "S.A.", "S.L.U."], ["es", "com.es"]),
        [("Directora de ventas", True), ("Director general", True), ("Gerente", True),
         ("Jefa de proyecto", False), ("Ingeniero de software", False), ("Analista", False)],
        [("Spain", 85), ("Mexico", 10), ("United States", 5)],
        "gmail.com,hotmail.es,yahoo.es,outlook.es",
        double_surname=0.35),
    "no": _locale(
        "Ole,Lars,Bjørn,Øystein,Håkon,Jørgen,Tor,Sindre,Espen,Kjetil",
        "Kari,Ingrid,Åse,Sigrid,Kjersti,Solveig,Marit,Ragnhild,Ingeborg,Tone",
        ["Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen",
         "Nilsen", "Berg", "Haugen", "Sæther", "Bråten", "Løken", "Strøm", "Ødegård",
         "Aasen", "Solberg", "Kvåle"],
        _companies("{root} {word} {suffix}",
                   ["Fjord", "Nordlys", "Bølge", "Vidde", "Skjær", "Trøndelag", "Havørn", "Fjell"],
                   _words("Data,Logistikk,Energi,Media,Handel,Rådgivning,Industri,Finans,Helse"),
                   ["AS", "AS", "ASA"], ["no"]),
        [("Daglig leder", True), ("Salgssjef", True), ("Rådgiver", False),
         ("Prosjektleder", False), ("Innkjøper", False)],
        [("Norway", 95), ("United Kingdom", 3), ("Germany", 2)],
        "gmail.com,online.no,hotmail.no,outlook.com"),
    "ru": _locale(
        "Дмитрий,Алексей,Сергей,Андрей,Иван,Михаил,Николай,Владимир,Павел,Артём",
        "Анна,Мария,Елена,Ольга,Наталья,Татьяна,Екатерина,Юлия,Ирина,Светлана",
        ["Иванов|Иванова", "Смирнов|Смирнова", "Кузнецов|Кузнецова", "Попов|Попова",
         "Васильев|Васильева", "Петров|Петрова", "Соколов|Соколова", "Михайлов|Михайлова",
         "Новиков|Новикова", "Фёдоров|Фёдорова", "Морозов|Морозова", "Волков|Волкова",
         "Лебедев|Лебедева", "Козлов|Козлова", "Орлов|Орлова"],
        _companies("{suffix} «{root}-{word}»",
                   ["Север", "Волга", "Берёза", "Сибирь", "Алмаз", "Звезда", "Восток", "Урал"],
                   _words("Софт,Логистик,Энерго,Медиа,Торг,Консалт,Пром,Финанс,Мед"),
                   ["ООО", "ООО", "АО"], ["ru"]),
        [("Генеральный директор", True), ("Коммерческий директор", True),
         ("Руководитель отдела продаж", True), ("Менеджер по продажам", False),
         ("Инженер", False), ("Аналитик", False)],
        [("Russia", 97), ("Germany", 3)],
        "yandex.ru,mail.ru,gmail.com,rambler.ru"),
    "zh": _locale(
        "伟:wei,磊:lei,强:qiang,杰:jie,志强:zhiqiang,军:jun,洋:yang,勇:yong",
        "芳:fang,娜:na,敏:min,静:jing,秀英:xiuying,艳:yan,丽:li,婷:ting",
        ["王:wang", "李:li", "张:zhang", "刘:liu", "陈:chen", "杨:yang", "赵:zhao",
         "黄:huang", "周:zhou", "吴:wu"],
        _companies("{root}{word}有限公司",
                   ["长城:changcheng", "东方:dongfang", "天龙:tianlong", "华信:huaxin",
                    "金桥:jinqiao", "海星:haixing"],
                   _words("科技:keji,物流:wuliu,能源:nengyuan,传媒:chuanmei,贸易:maoyi,"
                          "咨询:zixun,制造:zhizao,金融:jinrong,医疗:yiliao"),
                   [""], ["cn", "com.cn"]),
        [("总经理", True), ("销售总监", True), ("工程师", False), ("市场专员", False)],
        [("China", 95), ("United States", 5)],
        "qq.com,163.com,126.com",
        family_first=True, joiner=""),
    "ja": _locale(
        "太郎:taro,翔太:shota,大輔:daisuke,健太:kenta,蓮:ren,拓海:takumi,悠斗:yuto",
        "花子:hanako,陽菜:hina,結衣:yui,美咲:misaki,葵:aoi,さくら:sakura,由美:yumi",
        ["佐藤:sato", "鈴木:suzuki", "高橋:takahashi", "田中:tanaka", "伊藤:ito",
         "渡辺:watanabe", "山本:yamamoto", "中村:nakamura", "小林:kobayashi", "加藤:kato"],
        _companies("株式会社{root}{word}",
                   ["富士:fuji", "桜:sakura", "大和:yamato", "日の出:hinode", "青葉:aoba",
                    "北斗:hokuto"],
                   _words("ソフト:soft,物流:butsuryu,エナジー:energy,メディア:media,商事:shoji,"
                          "コンサルティング:consulting,工業:kogyo,ファイナンス:finance,"
                          "メディカル:medical"),
                   [""], ["co.jp", "jp"]),
        [("社長", True), ("部長", True), ("エンジニア", False), ("営業担当", False)],
        [("Japan", 100)],
        "gmail.com,yahoo.co.jp,docomo.ne.jp",
        family_first=True),
    "ko": _locale(
        "민준:minjun,지훈:jihoon,도윤:doyun,서준:seojun,예준:yejun,현우:hyunwoo,준호:junho",
        "서연:seoyeon,하은:haeun,지우:jiwoo,수빈:subin,민서:minseo,지민:jimin,유진:yujin",
        ["김:kim", "이:lee", "박:park", "최:choi", "정:jung", "강:kang", "조:cho", "윤:yoon",
         "장:jang", "임:lim"],
        _companies("(주){root}{word}",
                   ["한빛:hanbit", "미래:mirae", "대한:daehan", "새롬:saerom", "푸른:pureun",
                    "동해:donghae"],
                   _words("소프트:soft,물류:mulryu,에너지:energy,미디어:media,상사:sangsa,"
                          "컨설팅:consulting,산업:saneop,금융:geumyung,메디컬:medical"),
                   [""], ["co.kr", "kr"]),
        [("대표", True), ("영업팀장", True), ("사원", False), ("엔지니어", False)],
        [("South Korea", 100)],
        "naver.com,daum.net,gmail.com",
        family_first=True, joiner=""),
    "en": _locale(
        "James,Oliver,Michael,David,Daniel,Chris,Liam,Thomas,Matthew,Ryan,Sean",
        "Emily,Olivia,Sarah,Jessica,Emma,Laura,Grace,Hannah,Chloe,Megan,Zoë",
        ["Smith", "Johnson", "Brown", "Taylor", "Williams", "Jones", "Davies", "Wilson",
         "Evans", "Thomas", "Miller", "Garcia", "O'Brien", "Murphy", "Clarke", "MacLeod"],
        _companies("{root} {word} {suffix}",
                   ["Blue Harbor", "Northwind", "Redwood", "Silverline", "Brightpath",
                    "Oakridge", "Summit", "Kingsbridge", "Greenfield", "Ironbridge"],
                   _words("Software,Logistics,Energy,Media,Trading,Consulting,Manufacturing,"
                          "Capital,Health"),
                   ["Ltd", "Inc.", "LLC", "Group", "plc"], ["com", "co.uk", "io", "com"]),
        [],
        [("United Kingdom", 45), ("United States", 55)],
        "gmail.com,outlook.com,yahoo.com,hotmail.co.uk,icloud.com"),
    "de": _locale(
        "Lukas,Jürgen,Maximilian,Stefan,Jörg,Felix,Matthias,Tobias,Uwe,Björn",
        "Sophie,Lena,Katrin,Mia,Jana,Sabine,Ute,Hanna,Jülide,Franziska",
        ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Schulz", "Hoffmann", "Schröder", "Köhler", "Groß", "Weiß", "Krüger"],
        _companies("{root} {word} {suffix}",
                   ["Alpen", "Rhein", "Nordstern", "Elbe", "Schwarzwald", "Bergmann", "Löwen",
                    "Brücken"],
                   _words("Software,Logistik,Energie,Medien,Handel,Beratung,Maschinenbau,"
                          "Finanz,Medizintechnik"),
                   ["GmbH", "AG", "GmbH & Co. KG", "GmbH"], ["de"]),
        [("Geschäftsführer", True), ("Vertriebsleiter", True), ("Einkäufer", False),
         ("Werkstudent", False), ("Ingenieur", False)],
        [("Germany", 90), ("Austria", 5), ("Switzerland", 5)],
        "gmx.de,web.de,gmail.com,t-online.de"),
}

_LOCALE_WEIGHTS: _Weighted[_Locale] = _Weighted([
    (_LOCALES["pl"], 14), (_LOCALES["nl"], 10), (_LOCALES["es"], 12), (_LOCALES["no"], 8),
    (_LOCALES["ru"], 9), (_LOCALES["zh"], 5), (_LOCALES["ja"], 4), (_LOCALES["ko"], 4),
    (_LOCALES["en"], 24), (_LOCALES["de"], 10),
])

# Phone number shapes by country: a template and the digit count of each gap.
_PHONES: dict[str, tuple[str, tuple[int, ...]]] = {
    "Poland": ("+48 6{} {} {}", (2, 3, 3)),
    "Netherlands": ("+31 6 {} {}", (4, 4)),
    "Spain": ("+34 6{} {} {}", (2, 3, 3)),
    "Mexico": ("+52 55 {} {}", (4, 4)),
    "Norway": ("+47 9{} {} {}", (2, 2, 3)),
    "Russia": ("+7 9{} {}-{}-{}", (2, 3, 2, 2)),
    "China": ("+86 13{} {} {}", (1, 4, 4)),
    "Japan": ("+81 90-{}-{}", (4, 4)),
    "South Korea": ("+82 10-{}-{}", (4, 4)),
    "United Kingdom": ("+44 7{} {}", (3, 6)),
    "United States": ("+1 (3{}) {}-{}", (2, 3, 4)),
    "Germany": ("+49 15{} {}", (1, 7)),
    "Austria": ("+43 66{} {}", (1, 6)),
    "Switzerland": ("+41 7{} {} {} {}", (1, 3, 2, 2)),
}
_ALL_COUNTRIES = tuple(_PHONES)

# --------------------------------------------------------------------------
# Firmographics, titles, team

_INDUSTRIES: _Weighted[str] = _Weighted([
    ("software", 18), ("manufacturing", 14), ("finance", 10), ("healthcare", 8),
    ("education", 8), ("retail", 10), ("logistics", 9), ("energy", 6), ("government", 5),
    ("media", 7),
])

_TITLES: _Weighted[tuple[str, bool]] = _Weighted([
    (("CEO", True), 5), (("CTO", True), 3), (("CFO", True), 2), (("Founder", True), 3),
    (("Co-founder", True), 2), (("Owner", True), 4), (("Head of Sales", True), 3),
    (("VP Marketing", True), 2), (("Director of Operations", True), 2),
    (("Managing Director", True), 2), (("Head of IT", True), 2),
    (("Sales Manager", False), 4), (("Marketing Manager", False), 4),
    (("Project Manager", False), 3), (("Engineer", False), 5), (("Software Engineer", False), 4),
    (("Analyst", False), 4), (("Marketing Specialist", False), 4), (("Office Manager", False), 3),
    (("Consultant", False), 4), (("Student", False), 3), (("Intern", False), 2),
    (("Accountant", False), 2), (("Purchasing Agent", False), 2),
])

# Employees, skewed small: (low, high, weight) buckets.
_SIZE_BUCKETS: _Weighted[tuple[int, int]] = _Weighted([
    ((1, 9), 33), ((10, 49), 26), ((50, 199), 18), ((200, 999), 12), ((1000, 4999), 8),
    ((5000, 20000), 3),
])

_TEAM = ("anna", "bartek", "carmen", "dmitri", "eva")
_TAGS = ("vip", "partner", "follow-up", "enterprise", "smb", "re-engage", "competitor",
         "newsletter-a", "pilot")

# --------------------------------------------------------------------------
# Sources and engagement

_SOURCES: _Weighted[str] = _Weighted([
    ("web_form", 18), ("organic_search", 10), ("paid_search", 7), ("newsletter", 12),
    ("trade_show", 8), ("purchased_list", 9), ("referral", 5), ("social", 6),
    ("email_campaign", 6), ("webinar", 5), ("partner", 3), ("inbound_call", 3), ("chat", 4),
    ("other", 2),
])

# How much of the firmographics a source usually brings (purchased lists: most).
_RICHNESS = {"purchased_list": 0.9, "trade_show": 0.8, "partner": 0.8, "web_form": 0.7,
             "referral": 0.7, "inbound_call": 0.6, "webinar": 0.6, "email_campaign": 0.6,
             "chat": 0.4, "newsletter": 0.3}

# Sources where someone can show up without leaving contact details.
_ANONYMOUS_SOURCES = ("organic_search", "paid_search", "social", "trade_show", "chat", "other")

# Engagement tiers: 0 cold, 1 light, 2 engaged, 3 opportunity, 4 customer.
_DEFAULT_TIERS = (45, 30, 15, 7, 3)
_TIERS: dict[str, _Weighted[int]] = {
    source: _Weighted(list(enumerate(weights)))
    for source, weights in {
        **{name: _DEFAULT_TIERS for name in _SOURCES.options},
        "purchased_list": (70, 20, 7, 2.5, 0.5),
        "newsletter": (45, 35, 13, 5, 2),
        "referral": (20, 25, 25, 18, 12),
        "inbound_call": (15, 20, 30, 22, 13),
        "partner": (25, 25, 25, 15, 10),
        "web_form": (35, 30, 20, 10, 5),
        "chat": (35, 30, 20, 10, 5),
        "trade_show": (40, 30, 17, 9, 4),
        "social": (55, 28, 11, 4, 2),
    }.items()
}

# What a source records at creation: alternative opening sequences.
_OPENERS: dict[str, _Weighted[tuple[str, ...]]] = {
    source: _Weighted(options)
    for source, options in {
        "web_form": [(("page_visit", "content_download"), 6),
                     (("page_visit", "product_info_request"), 4)],
        "newsletter": [(("newsletter_signup",), 1)],
        "organic_search": [(("page_visit",), 7), (("page_visit", "content_download"), 3)],
        "paid_search": [(("page_visit",), 6), (("page_visit", "product_info_request"), 4)],
        "social": [(("page_visit",), 1)],
        "email_campaign": [(("email_open",), 5), (("email_open", "email_click"), 5)],
        "webinar": [(("webinar",), 1)],
        "chat": [(("page_visit", "product_info_request"), 1)],
        "inbound_call": [(("call",), 1)],
        "trade_show": [((), 1)],
        "purchased_list": [((), 3), (("email_open",), 1)],
        "referral": [((), 1)],
        "partner": [((), 1)],
        "other": [((), 1)],
    }.items()
}

_WEB_MIX = _Weighted([("page_visit", 45), ("content_download", 12), ("product_info_request", 6),
                      ("email_open", 20), ("email_click", 8), ("webinar", 4),
                      ("newsletter_signup", 5)])
_EMAIL_MIX = _Weighted([("email_open", 50), ("email_click", 18), ("page_visit", 20),
                        ("content_download", 6), ("webinar", 6)])
_OUTBOUND_MIX = _Weighted([("email_open", 40), ("page_visit", 30), ("email_click", 10),
                           ("content_download", 9), ("webinar", 5), ("newsletter_signup", 3),
                           ("call", 3)])
_WEBINAR_MIX = _Weighted([("webinar", 15), ("page_visit", 30), ("email_open", 30),
                          ("content_download", 15), ("email_click", 10)])
_NURTURE: dict[str, _Weighted[str]] = {
    **{source: _OUTBOUND_MIX for source in _SOURCES.options},
    **{source: _WEB_MIX for source in ("web_form", "organic_search", "paid_search", "social",
                                       "chat")},
    "newsletter": _EMAIL_MIX,
    "email_campaign": _EMAIL_MIX,
    "webinar": _WEBINAR_MIX,
}
# Follow-on activity count range per tier.
_NURTURE_COUNT = ((0, 2), (1, 4), (3, 9), (4, 12), (5, 15))

# --------------------------------------------------------------------------
# Free text

_HOSTILE = (
    "[bold red]ACME[/]",
    "[link=http://x]click[/link]",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x","y")',
    "Robert'); DROP TABLE contacts;--",
    "[/]",
    "${jndi:ldap://x/a}",
    "{name} {0} %s %n",
    "+cmd|' /C calc'!A0",
    "<b>Bold</b> & \"Sons\"",
    "\\[escaped] back\\slash",
    "🚀 Rocket Labs 🚀",
    "Ｆｕｌｌｗｉｄｔｈ Ｃｏｒｐ",
    ("Wolfeschlegelsteinhausenbergerdorff " + "Very Long Name " * 12).rstrip(),
    "@here @everyone",
)
_HOSTILE_FIELDS = _Weighted([("name", 50), ("company", 35), ("title", 10), ("notes", 5)])

_NOTES = (
    "Met at the booth, interested in the API.",
    "Asked for pricing for 20 seats.",
    "Prefers email over phone.",
    "Spotkaliśmy się na targach w Poznaniu.",
    "Interesado en una demo para su equipo.",
    "Vil ha tilbud før sommeren.",
    "Просил перезвонить после праздников.",
    "Wil graag een offerte ontvangen.",
    "Call notes:\n- budget approved in Q3\n- needs SSO\n- decision by the board",
    "Rozmowa: potrzebują integracji z ERP.\nOddzwonić w przyszłym tygodniu.",
    "Uses a competitor today; contract ends in spring.",
)
_ACTIONS = (
    ("Send case study", "Invite to the next webinar", "Send intro email"),
    ("Send case study", "Invite to the next webinar", "Check needs by email"),
    ("Call to qualify", "Ask about budget", "Send comparison sheet"),
    ("Schedule demo", "Send quote", "Follow up on proposal", "Meet the decision maker"),
    ("Onboarding call", "Ask for a testimonial", "Check in after first month"),
)
_LOST_REASONS = ("Price too high", "Chose a competitor", "No budget this year",
                 "Project cancelled", "No decision made", "Went silent after the demo",
                 "Wybrali konkurencję", "Presupuesto insuficiente")
_DISQUALIFY_REASONS = ("Student, no purchase intent", "Competitor doing research",
                       "Outside our target market", "Only curious, no problem we solve")
_ADJUSTMENTS = ((15, "Strategic account"), (10, "Known from a previous company"),
                (-20, "Bad payment history"), (-10, "Reseller, not an end customer"))

# Chance that a BANT answer is known, and that a known one is "yes", per tier.
_BANT_KNOWN = (0.03, 0.1, 0.4, 0.75, 0.9)
_BANT_YES = (0.35, 0.4, 0.55, 0.7, 0.95)
_OWNED = (0.05, 0.15, 0.5, 0.9, 0.95)


# --------------------------------------------------------------------------
# Time

@lru_cache(maxsize=None)
def _day(days: int) -> str:
    """Days since the epoch as YYYY-MM-DD."""
    return (date(1970, 1, 1) + timedelta(days=days)).isoformat()


# Formatting a timestamp is the hottest path: look the pieces up instead.
_MINUTES = tuple(f"T{minute // 60:02d}:{minute % 60:02d}:" for minute in range(1440))
_SECONDS = tuple(f"{second:02d}Z" for second in range(60))


def _iso(ts: int) -> str:
    """Seconds since the epoch as 2026-08-01T10:00:00Z."""
    days, seconds = divmod(ts, DAY)
    minutes, second = divmod(seconds, 60)
    return _day(days) + _MINUTES[minutes] + _SECONDS[second]


def _office_hours(rng: random.Random, ts: int) -> int:
    """The same day, at a time between 08:00 and 18:00 UTC."""
    return ts - ts % DAY + _int(rng, 8 * 3600, 18 * 3600)


def _epoch_seconds(now: datetime) -> int:
    # A naive ``now`` means UTC, as in model.parse_datetime; drop the fraction so
    # nothing generated can be later than ``now``.
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return int(now.timestamp())


def _created(rng: random.Random, now: int) -> int:
    """Within the last year, denser recently, with a few from the last two days."""
    if rng.random() < 0.03:
        return now - int(rng.random() * 2 * DAY)
    created = now - int(365 * DAY * rng.random() ** 1.25)
    if rng.random() < 0.75:
        # Most people fill forms and visit booths by day; today's slot may still
        # be ahead, then take yesterday's.
        created = _office_hours(rng, created)
        if created > now:
            created -= DAY
    return created


# --------------------------------------------------------------------------
# Run state

@dataclass
class _Run:
    now: int
    emails: dict[str, int] = field(default_factory=dict)  # address -> times used
    ambassadors: list[str] = field(default_factory=list)  # names who referred someone
    external_id: int = 0


# --------------------------------------------------------------------------
# One contact

@dataclass
class _Person:
    name: str
    first: str  # ASCII slugs for email addresses
    last: str
    locale: _Locale


def _person(rng: random.Random, locale: _Locale) -> _Person:
    female = rng.random() < 0.5
    first, first_slug = _one(rng, locale.female if female else locale.male)
    male_last, female_last, male_slug, female_slug = _one(rng, locale.surnames)
    last, last_slug = (female_last, female_slug) if female else (male_last, male_slug)
    if locale.double_surname and rng.random() < locale.double_surname:
        last = f"{last} {_one(rng, locale.surnames)[0]}"
    name = f"{last}{locale.joiner}{first}" if locale.family_first else f"{first} {last}"
    return _Person(name, first_slug, last_slug, locale)


def _random_name(rng: random.Random) -> str:
    return _person(rng, _LOCALE_WEIGHTS.pick(rng)).name


def _email(rng: random.Random, person: _Person, company: _Company | None, run: _Run) -> str:
    """first.last@company-domain in most cases; numbered when the address is taken."""
    if company is None or rng.random() < 0.12:
        domain = _one(rng, person.locale.free_mail)
    else:
        domain = company.domain
    style = rng.random()
    if style < 0.6:
        local = f"{person.first}.{person.last}"
    elif style < 0.78:
        local = f"{person.first[:1]}{person.last}"
    elif style < 0.9:
        local = f"{person.first}{person.last}"
    else:
        local = person.first
    address = f"{local}@{domain}"
    # Slugs hold no digits, so "local<n>" can never collide with another base address.
    used = run.emails.get(address, 0) + 1
    run.emails[address] = used
    return address if used == 1 else f"{local}{used}@{domain}"


def _phone(rng: random.Random, country: str) -> str:
    template, gaps = _PHONES[country]
    return template.format(*(f"{int(rng.random() * 10 ** size):0{size}d}" for size in gaps))


def _country(rng: random.Random, locale: _Locale) -> str:
    if rng.random() < 0.03:  # expats and travellers
        return _one(rng, _ALL_COUNTRIES)
    return locale.countries.pick(rng)


def _title(rng: random.Random, locale: _Locale) -> tuple[str, bool]:
    if locale.titles and rng.random() < 0.3:
        return _one(rng, locale.titles)
    return _TITLES.pick(rng)


def _company_size(rng: random.Random) -> int:
    low, high = _SIZE_BUCKETS.pick(rng)
    return _int(rng, low, high)


def _contact_channels(rng: random.Random, source: str) -> tuple[bool, bool]:
    """(has email, has phone) for someone who left details."""
    phone_only = 0.5 if source == "inbound_call" else 0.085
    if rng.random() < phone_only:
        return False, True
    return True, rng.random() < _ALSO_PHONE.get(source, 0.25)


# Chance that someone who gave an email also gave a phone: cards and lists carry both.
_ALSO_PHONE = {"trade_show": 0.6, "inbound_call": 1.0, "referral": 0.5, "purchased_list": 0.5}


def _identity(rng: random.Random, person: _Person, source: str, tier: int, suspect: bool,
              run: _Run) -> tuple[dict[str, Any], bool]:
    """Who they are; also whether the title suggests a decision maker."""
    locale = person.locale
    fields: dict[str, Any] = {}
    richness = _RICHNESS.get(source, 0.5) + 0.08 * tier
    company = _one(rng, locale.companies) if rng.random() < 0.88 else None
    country = _country(rng, locale)
    if suspect:
        # Anonymous: most have no name at all, some a name seen on a badge or a like.
        if rng.random() < 0.4:
            fields["name"] = person.name
    else:
        # A newsletter sign-up often gives just an address.
        if source != "newsletter" or rng.random() < 0.6:
            fields["name"] = person.name
        has_email, has_phone = _contact_channels(rng, source)
        if has_email:
            fields["email"] = _email(rng, person, company, run)
        if has_phone:
            fields["phone"] = _phone(rng, country)
    if rng.random() < 0.5 + richness / 2:
        fields["country"] = country
    decides = False
    if rng.random() < richness + 0.2:
        fields["title"], decides = _title(rng, locale)
    if company is not None and (not suspect or rng.random() < 0.3):
        _firmographics(rng, fields, company, richness)
    return fields, decides


def _firmographics(rng: random.Random, fields: dict[str, Any], company: _Company,
                   richness: float) -> None:
    if rng.random() < richness + 0.3:
        fields["company"] = company.name
    if rng.random() < richness:
        # The name hints at the industry, but forms and lists often say otherwise.
        hinted = company.industry is not None and rng.random() < 0.85
        fields["industry"] = company.industry if hinted else _INDUSTRIES.pick(rng)
    if rng.random() < richness:
        fields["company_size"] = _company_size(rng)


def _nurture(rng: random.Random, source: str, tier: int, suspect: bool, created: int,
             now: int) -> list[tuple[int, str, int]]:
    """Opening activities at creation plus follow-on engagement over the next months."""
    events: list[tuple[int, str, int]] = []
    opener = ("page_visit",) if suspect else _OPENERS[source].pick(rng)
    for step, kind in enumerate(opener):
        at = min(now, created + step * _int(rng, 30, 900))
        events.append((at, kind, _visits(rng) if kind == "page_visit" else 1))
    low, high = _NURTURE_COUNT[tier]
    span = min(now - created, _int(rng, 14, 330) * DAY)
    mix = _NURTURE[source]
    for _ in range(_int(rng, low, high)):
        kind = "page_visit" if suspect else mix.pick(rng)
        at = created + int(rng.random() * span)
        events.append((at, kind, _visits(rng) if kind == "page_visit" else 1))
    return events


def _visits(rng: random.Random) -> int:
    """Pages in one visit: usually one, sometimes a longer browse."""
    return 1 if rng.random() < 0.55 else _int(rng, 2, 9)


def _milestone_plan(rng: random.Random, tier: int) -> list[tuple[str, int, int]]:
    """Sales steps in funnel order, each with the gap in days before it."""
    plan: list[tuple[str, int, int]] = []
    if tier == 2 and rng.random() < 0.5:
        plan.append(("call", 2, 30))
    if tier >= 3:
        demo = rng.random() < 0.7
        if demo:
            plan.append(("demo_request", 1, 20))
        if rng.random() < 0.8:
            plan.append(("call", 1, 10))
        if rng.random() < 0.6:
            plan.append(("meeting", 3, 21))
        if not demo or rng.random() < 0.5:
            plan.append(("quote_request", 2, 20))
    if tier == 4:
        plan.append(("purchase", 5, 45))
        if rng.random() < 0.1:
            plan.append(("purchase", 30, 120))  # a repeat order
        if rng.random() < 0.3:
            plan.append(("referral_made", 20, 120))
    return plan


def _milestones(rng: random.Random, tier: int, created: int,
                now: int) -> list[tuple[int, str, int]]:
    """Lay the plan out in time; steps that would fall after ``now`` have not happened."""
    plan = _milestone_plan(rng, tier)
    if not plan:
        return []
    at = created + int(rng.random() * 0.4 * (now - created))
    events = []
    for kind, low, high in plan:
        # Calls, meetings and orders happen in office hours.
        at = _office_hours(rng, at + _int(rng, low, high) * DAY)
        if at > now:
            break
        events.append((at, kind, 1))
    return events


def _activities(events: list[tuple[int, str, int]]) -> list[dict[str, Any]]:
    events.sort()
    activities = []
    for at, kind, count in events:
        activity: dict[str, Any] = {"kind": kind, "at": _iso(at)}
        if count > 1:
            activity["count"] = count
        activities.append(activity)
    return activities


def _bant(rng: random.Random, fields: dict[str, Any], tier: int, decides: bool) -> None:
    """Answers known mostly for engaged contacts; authority follows the title,
    budget follows the amount when there is one."""
    known, yes = _BANT_KNOWN[tier], _BANT_YES[tier]
    if rng.random() < 0.04 + 0.12 * tier:
        # Log-uniform 500..100,000: a good share lands far below the price.
        amount = 500 * 200 ** rng.random()
        step = 100 if amount < PRICE else 1000
        fields["budget_amount"] = int(round(amount / step) * step)
    for answer in ("budget", "authority", "need", "timing"):
        if rng.random() >= known:
            continue
        if answer == "authority":
            chance = 0.85 if decides else 0.15
        elif answer == "budget" and "budget_amount" in fields:
            chance = 0.9 if fields["budget_amount"] >= PRICE else 0.2
        else:
            chance = yes
        fields[answer] = "yes" if rng.random() < chance else "no"


def _handling(rng: random.Random, fields: dict[str, Any], source: str, tier: int,
              created: int, run: _Run) -> None:
    """Owner, follow-up, next action, tags, notes: what the team has done so far."""
    owned = rng.random() < _OWNED[tier]
    if owned:
        fields["owner"] = _one(rng, _TEAM)
        if rng.random() < 0.6 and "outcome" not in fields:
            # Around today, a good part of it already overdue.
            fields["follow_up"] = _day(run.now // DAY + _int(rng, -21, 35))
        if rng.random() < 0.5:
            stage = 4 if fields.get("outcome") == "won" else tier
            fields["next_action"] = _one(rng, _ACTIONS[stage])
    tags = _tags(rng, source, tier, created)
    if tags:
        fields["tags"] = tags
    if rng.random() < 0.05 + 0.08 * tier:
        fields["notes"] = _one(rng, _NOTES)


def _tags(rng: random.Random, source: str, tier: int, created: int) -> list[str]:
    tags = []
    if source == "trade_show" and rng.random() < 0.4:
        tags.append(f"event-{_day(created // DAY)[:4]}")
    if rng.random() < 0.06:
        tags.append(_one(rng, _TAGS))
    if tier >= 3 and rng.random() < 0.15:
        tags.append("vip")
    return list(dict.fromkeys(tags))  # keep order, drop repeats


def _acquisition(rng: random.Random, fields: dict[str, Any], source: str, run: _Run) -> None:
    if source == "referral" and rng.random() < 0.9 or source == "partner" and rng.random() < 0.1:
        use_known = run.ambassadors and rng.random() < 0.7
        fields["referred_by"] = _one(rng, run.ambassadors) if use_known else _random_name(rng)
    if rng.random() < {"purchased_list": 0.9, "partner": 0.4}.get(source, 0.03):
        run.external_id += _int(rng, 1, 40)
        fields["external_id"] = f"EXT-{run.external_id:06d}"


def _outcome(rng: random.Random, fields: dict[str, Any], steps: list[str], tier: int) -> None:
    """Won with a purchase; some opportunities lost; a few early contacts disqualified."""
    if "purchase" in steps:
        fields["outcome"] = "won"
    elif tier >= 3 and any(step in _DEAL_STEPS for step in steps) and rng.random() < 0.35:
        fields["outcome"] = "lost"
        fields["outcome_reason"] = _one(rng, _LOST_REASONS)
    elif tier <= 1 and rng.random() < 0.02:
        reason = _one(rng, _DISQUALIFY_REASONS)
        # Disqualifying is a person's pin of the exit stage, with the reason kept twice:
        # as why the stage is pinned and as the disqualification reason itself.
        fields.update(stage_pin="disqualified", pin_reason=reason, disqualify_reason=reason)


_DEAL_STEPS = ("demo_request", "quote_request", "meeting")


def _rare_extras(rng: random.Random, fields: dict[str, Any]) -> None:
    if rng.random() < 0.005:
        fields["score_adjustment"], fields["score_adjustment_reason"] = _one(rng, _ADJUSTMENTS)
    if rng.random() < 0.005:
        # Markup-like or hostile text where a front end might interpret it.
        fields[_HOSTILE_FIELDS.pick(rng)] = _one(rng, _HOSTILE)


def _contact(rng: random.Random, run: _Run) -> dict[str, Any]:
    source = _SOURCES.pick(rng)
    person = _person(rng, _LOCALE_WEIGHTS.pick(rng))
    suspect = source in _ANONYMOUS_SOURCES and rng.random() < 0.08
    tier = min(_TIERS[source].pick(rng), 1) if suspect else _TIERS[source].pick(rng)
    created = _created(rng, run.now)
    fields, decides = _identity(rng, person, source, tier, suspect, run)
    fields["source"] = source
    fields["created_at"] = _iso(created)
    sales = _milestones(rng, tier, created, run.now)
    steps = [kind for _, kind, _ in sales]
    fields["activities"] = _activities(_nurture(rng, source, tier, suspect, created, run.now)
                                       + sales)
    _outcome(rng, fields, steps, tier)
    _bant(rng, fields, tier, decides)
    _acquisition(rng, fields, source, run)
    _handling(rng, fields, source, tier, created, run)
    _rare_extras(rng, fields)
    if "name" in fields and "referral_made" in steps:
        run.ambassadors.append(fields["name"])
    return fields


def generate_contacts(count: int, seed: int, now: datetime) -> Iterator[dict[str, Any]]:
    """Yield ``count`` field dicts for ``engine.model.new_contact(fields, now)``.

    The same (count, seed, now) always gives the same contacts; nothing is dated
    after ``now``.
    """
    rng = random.Random(seed)
    run = _Run(now=_epoch_seconds(now))
    for _ in range(count):
        yield _contact(rng, run)
