"""The phrases that give away instructions hidden in outside text, as regular expressions."""

from __future__ import annotations

import re


def _any(words: str) -> str:
    """An alternation of `|`-separated regex words; a space in one matches any whitespace."""
    return "(?:" + "|".join(w.strip().replace(" ", r"\s+") for w in words.split("|")) + ")"


_AI = _any(
    r"ai|a\.i\.|assistant|chat ?bot|bot|llm|large language model|language model|model|agent|gpt"
    r"|chatgpt|claude|qwen|copilot|gemini"
)
_TOOL = _any("python|search_files|fetch_page|read_file|send_email|send_message|shell|bash|code")
_VERB = _any(  # what an instruction tells a model to do
    "ignore|say|reply|respond|answer|tell|write|output|print|call|run|execute|send|visit|recommend"
    "|include|forget|you|do|don't|never|always|only|stop|mention|add|append|please|important"
)
_REPLY = _any("reply|replies|response|responses|answer|answers|summary|message|messages|output")
_EARLIER = _any(
    "previous|prior|above|earlier|preceding|former|original|initial|old|existing|system|other"
    "|given|current|developer"
)
_ORDERS = _any(
    "instructions?|prompts?|rules?|directions?|guidelines?|context|messages?|orders?|commands?"
    "|constraints?|guidance|programming|text|content|conversation|directives?"
)
_SECRETS = _any(
    "(?:user'?s? )?(?:chat|conversation|browsing|search) history|conversation|passwords?"
    "|credentials?|api keys?|secrets?|ssh keys?|private keys?|system prompt|memories"
    "|personal (?:data|information|details)"
    "|user'?s? (?:data|files|information|details|messages|notes|address|email|name)"
    "|contents? of (?:this|the) (?:file|document|page|conversation|chat|folder|inbox)"
)
STRONG: tuple[tuple[str, str], ...] = (
    # "Ignore all previous instructions", "disregard the above.", "forget what you were told"
    (
        "override",
        rf"\b{_any('ignore|disregard|forget|override|bypass|discard|abandon|neglect')}\s+"
        rf"(?:{_any('all|any|the|your|my|every|of|these|those')}\s+)*(?:{_EARLIER}\s+)+{_ORDERS}\b",
    ),
    (
        "override",
        r"\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+)?(?:(?:that\s+|what\s+)?"
        r"you(?:'ve|\s+have|\s+were)?\s+(?:been\s+)?(?:told|instructed|given|taught)|"
        r"(?:all|any)\s+(?:instructions?|rules?))\b",
    ),
    (
        "override",
        r"\b(?:ignore|disregard|forget)\s+(?:the\s+|all\s+)?(?:above|previous|prior|"
        r"foregoing)\s*[.,;:!]",
    ),
    (
        "override",
        # "New instructions:", "New instructions from the user:"
        r"\b(?:new|updated|real|actual|true|secret|hidden|revised)\s+instructions?"
        r"(?:\s+(?:from|by|for)\s+(?:the\s+|your\s+)?\w+)?\s*:",
    ),
    (
        "override",
        r"\byour\s+(?:new|real|actual|true|only|primary|next|updated|secret)\s+"
        r"(?:task|goal|instructions?|objective|job|mission|purpose|role|directive|orders?)\s+"
        r"(?:now\s+)?(?:is|are|:)",
    ),
    (
        "role-switch",
        r"\byou\s+are\s+now\s+(?:an?\s+|my\s+|the\s+)?(?:[\w-]+\s+){0,3}?"
        + _any(
            "assistant|ai|bot|model|agent|character|persona|pirate|hacker|dan|jailbroken"
            "|unrestricted|unfiltered|free from"
        )
        + r"\b",
    ),
    (
        "role-switch",
        r"\byou\s+are\s+no\s+longer\s+(?:an?\s+)?(?:[\w-]+\s+){0,2}?"
        + _any("assistant|ai|bound|restricted|limited|required|chatgpt|qwen|model|helpful")
        + r"\b",
    ),
    (
        "role-switch",
        rf"\b{_any('from now on|henceforth|going forward')}\b,?\s+"
        rf"(?:you\s+(?:{_any('will|must|shall|should')}\s+)?|the\s+{_AI}\s+(?:will\s+|must\s+)?)?"
        + _any(
            "respond|reply|answer|act|speak|talk|say|behave|pretend|ignore"
            "|only (?:respond|reply|answer|say)"
            "|always (?:respond|reply|answer|say|end|start|include|mention|recommend)"
        )
        + r"\b",
    ),
    (
        "role-switch",
        r"\bact\s+as\s+(?:an?\s+|the\s+|my\s+)?(?:[\w-]+\s+){0,2}?"
        + _any(
            "assistant|ai|bot|linux terminal|terminal|shell|interpreter|dan|hacker|jailbroken"
            "|unrestricted|pirate|character|persona"
        )
        + r"\b|\bact\s+as\s+(?:if|though)\s+you\b",
    ),
    (
        "role-switch",
        # "Pretend to be..." opening a sentence, or after "you (must)", "please", "now", "and"
        r"\b(?=pretend\s)(?:(?<![^\n])|(?<=[.!?:>*-]\s)|(?<=[\n\"'(]\s)|(?<=[\"'(])"
        r"|(?<=\b(?:you|now|and)\s)|(?<=\bplease\s)|(?<=\b(?:must|will)\s)|(?<=\bshould\s))"
        r"pretend\s+(?:to\s+be\s|(?:that\s+)?you\s+(?:are|have|were|can)\b)"
        r"|\brole-?\s?play\s+as\b|\bstay\s+in\s+character\b",
    ),
    (
        "role-switch",
        r"\b"
        + _any("enter|enable|activate|switch to|you are (?:now )?in")
        + r"\s+(?:dan|god|jailbreak|jailbroken|unrestricted|unfiltered)\s+mode\b",
    ),
    (
        "role-switch",
        r"\b(?:new|updated|real|actual|hidden|secret|override)\s+system\s+"
        r"(?:prompt|message|instructions?)\s*(?::|is\b|follows)"
        r"|\bsystem\s+(?:prompt|message|override)\s*:",
    ),
    # A role tag opening a line ("System: you are...", "[assistant]: ignore..."), as transcripts do
    (
        "role-switch",
        r"(?m)^[ \t]*(?:#+\s*|\[|<|\*\*)?"
        r"(?:system|assistant|user|human|developer|admin|ai)"
        r"(?:\s+(?:message|prompt|override|instructions?|note))?(?:\]|>|\*\*)?\s*:\s*"
        rf"(?=(?:{_VERB}|your|disregard|from\s+now|new|the\s+(?:user|assistant)|attention)\b)",
    ),
    ("role-switch", r"###\s*(?:instruction|system|response|human|assistant)s?\s*:|<</?SYS>>"),
    (
        "chat-template",
        # a whole injected turn, from its opening token to its closing one (when closed)
        r"<\|im_start\|>(?s:.{0,2000}?)<\|im_end\|>|\[INST\](?s:.{0,2000}?)\[/INST\]"
        r"|<start_of_turn>(?s:.{0,2000}?)<end_of_turn>"
        r"|<\|start_header_id\|>(?s:.{0,2000}?)<\|eot_id\|>"
        r"|<\|[a-z_▁]{2,24}\|>|\[/?INST\]|</?(?:start_of_turn|end_of_turn)>"
        r"|</?tool_(?:call|response)>\s*\{|<function=\w+>",
    ),
    (
        "addressed",
        r"\b"
        + _any(
            "note|message|notice|instructions?|reminder|memo|request|command|orders?|warning"
            "|text|hint|prompt|comment"
        )
        + rf"\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+|an?\s+)?{_AI}s?\b(?!\s*"
        + _any(
            "training|weights|card|files?|checkpoints?|architecture|versions?|parameters"
            r"|config\w*|download|evaluation|to be"
        )
        + ")",
    ),
    (
        "addressed",
        rf"\b{_any('hey|hi|hello|dear|attention|psst|listen')}[\s,]+(?:the\s+|you\s+)?"
        rf"{_AI}\b",
    ),
    (
        "addressed",
        rf"\b{_AI}s?\s+"
        + _any("reading|processing|parsing|summari[sz]ing|viewing|seeing|analy[sz]ing|looking at")
        + r"\s+(?:this|these|the\s+(?:above|following|text|document|page|image|file|email))\b",
    ),
    (
        "addressed",
        r"\bif\s+you(?:\s+are|'re)\s+(?:an?\s+)?"
        + _any(
            "ai|assistant|llm|large language model|language model|chat ?bot|bot|agent|gpt|model"
            "|automated (?:system|agent|assistant)"
        )
        + r"\b",
    ),
    # "Assistant: reply …", "AI, before you answer …"
    (
        "addressed",
        r"(?m)^\W*(?:ai|assistant|llm|bot|model|chatbot|agent)\s*[,:]\s*(?:\w+\s+){0,2}?"
        rf"{_VERB}\b",
    ),
    (
        "addressed",
        # "tell the user", but not "helps to tell the user" or "will tell the user"
        # (a leading look-ahead lets the look-behinds run only where one of the verbs starts)
        r"\b(?=(?:tell|inform|advise|urge|convince|persuade|instruct|remind)\s)"
        r"(?<!\bto\s)(?<!\bwill\s)(?<!\bwould\s)(?<!\bcan\s)(?<!\bcould\s)(?<!\bmay\s)"
        r"(?<!\bmight\s)(?<!\bthen\s)(?<!\bdoes\s)"
        + _any("tell|inform|advise|urge|convince|persuade|instruct|remind")
        + r"\s+the\s+(?:user|human|reader|person\s+asking)\b"
        r"|\b(?:recommend|suggest)\s+(?:to\s+the\s+user|that\s+the\s+user|the\s+user)\b",
    ),
    (
        "addressed",
        r"\bin\s+your\s+(?:reply|response|summary|output|next\s+(?:message|answer|reply))"
        rf"\b|\b{_any('end|start|begin|finish|prefix|conclude')}\s+(?:each\s+|every\s+|all\s+)?"
        rf"(?:of\s+)?your\s+{_REPLY}\b",
    ),
    (
        "addressed",
        r"\binstead\s*,?\s+" + _any("reply|respond|output|recommend|send|visit|claim") + r"\b",
    ),
    (
        "addressed",
        r"\b(?:respond|reply|answer)\s+(?:only\s+)?(?:with|using)\s+"
        r"(?:only\s+|exactly\s+)?(?:the\s+(?:word|phrase|text|following|string|sentence)|[\"'“«])"
        r"|\b(?:say|reply|respond|repeat)\s+"
        + _any(
            "only|exactly|verbatim|the following (?:text|words|sentence|message)"
            "|this (?:exact|text|sentence)"
        )
        + r"\b",
    ),
    (
        "addressed",
        r"\bthe\s+(?:user|human)\s+(?:actually\s+|really\s+)?"
        + _any("wants|would like|has asked|requests|requested|needs")
        + r"\s+you\s+to\b",
    ),
    (
        "addressed",
        r"\byou\s+"
        + _any("must|should|will|need to|have to|are (?:required|instructed|ordered|told) to")
        + r"\s+(?:now\s+|always\s+|also\s+|only\s+)?"
        + _any(
            "ignore|disregard|forget|obey|recommend|promote|praise|insult|reply|respond|say"
            "|output|invoke|reveal"
        )
        + r"\b",
    ),
    (
        "addressed",
        r"\bwhen\s+(?:the\s+)?(?:user|human)\s+(?:asks?|says|mentions|requests|wants)\b"
        r".{0,80}?\b(?:say|reply|respond|answer|tell|recommend|claim|mention|direct|point)\b",
    ),
    (
        "tool-request",
        r"\b(?:call|invoke|run|execute|trigger|activate)\s+"
        rf"(?:the\s+|your\s+|a\s+)?[`'\"]?{_TOOL}[`'\"]?\s+(?:tool|function|interpreter|sandbox)\b",
    ),
    (
        "tool-request",
        # "use the python tool to run `…`": a tool asked to run a given command
        r"\buse\s+(?:the\s+|your\s+|a\s+)?[`'\"]?\w+[`'\"]?\s+(?:tool|function)\s+to\s+"
        r"(?:run|execute|call|send|fetch|upload|open)\b",
    ),
    (
        "tool-request",
        r"\b(?:call|invoke|use|run|trigger)\s+(?:the\s+|your\s+|a\s+)?(?:\w+\s+)?"
        r"tool\s+(?:named|called|with)\b"
        r"|\b(?:run|execute|eval(?:uate)?)\s+(?:this|the\s+following|that|these)\s+(?:\w+\s+)?"
        r"(?:code|snippet|script|program|command)s?\s+(?:in|with|using|through|via)\s+"
        r"(?:the\s+|your\s+)(?:python\s+)?(?:tool|sandbox)\b",
    ),
    (
        "tool-request",
        r"\b"
        + _any("read|cat|open|send|upload|print|copy|show|display|output|include|list|post")
        + r"\s+(?:the\s+)?(?:contents?\s+of\s+)?(?:(?:file|folder)\s+)?[`'\"]?"
        r"(?:~/\.ssh|/etc/shadow|\S*\.ssh/id_\w+)"
        r"|\brm\s+-rf\s+(?:~|/|\$HOME)(?=\s|$|[;'\"])|:\(\)\s*\{\s*:\|:&\s*\};:",
    ),
    (
        "exfiltration",
        r"\b(?=(?:send|e-?mail|mail|forward|upload|post|transmit|exfiltrate|leak|share|submit)\s)"
        r"(?<!\bnever\s)(?<!\bnot\s)"
        + _any("send|email|e-mail|mail|forward|upload|post|transmit|exfiltrate|leak|share|submit")
        + r"\s+(?:(?!to\b)[\w'-]+\s+){0,6}?(?:the|all|this|your|my|their|every|any)\s+"
        + _SECRETS
        + r"\b",
    ),
    # A link with a slot for the conversation: https://x.example/log?q={summary}
    (
        "exfiltration",
        r"https?://\S*?(?:\{[^}\s]*?"
        + _any(
            "conversation|chat|history|data|secret|password|key|token|summary|answer|reply"
            "|message|memory|prompt|user|email|notes?|content|info|text"
        )
        + r"[^}\s]*\}|%7B|\[[A-Z_ ]{3,}\]|<[a-z_ ]{3,}>)",
    ),
    (
        "concealment",
        r"\b"
        + _any("do not|don't|dont|never|must not|mustn't|should not|shouldn't")
        + r"\s+(?:ever\s+)?"
        + _any("tell|mention|reveal|disclose|describe|inform|alert|notify|warn|let")
        + r"\s+(?:the\s+user|the\s+human|your\s+user|(?:the\s+)?user\s+know|(?:about\s+)?"
        r"(?:this|these|that|the)\s+"
        + _any(
            "instructions?|notes?|messages?|text|requests?|part"
            "|lines?|sections?|image|hidden|prompt"
        )
        + r"\b)",
    ),
    (
        "concealment",
        r"\bwithout\s+(?:telling|informing|notifying|alerting|warning)\s+"
        r"(?:the\s+user|the\s+human)\b"
        r"|\b(?:keep|hide|conceal)\s+(?:this|these|it|the\s+(?:instructions?|note|message|text))\s+"
        r"(?:(?:a\s+)?(?:secret|hidden|confidential)\s+)?from\s+(?:the\s+user|the\s+human)\b",
    ),
    (
        "encoded-request",
        r"\b"
        + _any("decode|decipher|decrypt|unscramble|rot13|base64[- ]?decode")
        + r"\s+(?:[\w-]+\s+){0,6}?(?:and|then)\s+"
        + _any("follow|obey|execute|run|do|carry out|act on|apply|perform")
        + r"\b"
        r"|\b(?:follow|obey|execute|carry\s+out|act\s+on)\s+(?:the\s+)?"
        r"(?:hidden|encoded|decoded|secret|embedded|invisible|real)\s+"
        r"(?:instructions?|commands?|orders?|directions?|message)\b",
    ),
    # Claims of authority over the user's request: a new task, a higher priority, a new mode
    (
        "override",
        r"\b(?:ignore|disregard|forget)\s+(?:everything|anything|all)\s+(?:before|above|prior"
        r"|previously|earlier|said|written)\b"
        r"|\b(?:ignore|disregard|forget)\s+(?:what|anything|everything)\s+(?:i|you|we|the\s+user)"
        r"\s+(?:said|told|wrote|asked)\b"
        r"|\b(?:ignore|disregard|forget|skip)\s+the\s+user'?s?\s+(?:request|question|message"
        r"|instructions?|prompt)\b"
        r"|\b(?:ignore|disregard|bypass)\s+(?:the|all|any|your)\s+(?:[\w-]+\s+)?(?:rules"
        r"|guidelines|restrictions|safety|filters|polic(?:y|ies))\b"
        # "disregard the instructions you received", "ignore the question above"
        r"|\b(?:ignore|disregard|forget)\s+(?:the|this|that|these|those|all|any|your|my)\s+"
        r"(?:instructions?|rules?|guidelines|requests?|questions?|tasks?|prompts?)\s+(?:you\s+"
        r"(?:received|were|got|have)|(?:that|which)\s+(?:you|the\s+user)|from\s+the\s+user|above"
        r"|before|earlier|given)\b",
    ),
    (
        "override",
        r"\bnew\s+(?:task|instructions?|orders?|directives?|objective|goal|role|rules?)\s*:"
        r"|\byou\s+have\s+(?:been\s+)?(?:given|received|assigned)\s+(?:new|updated|different"
        r"|secret)\s+(?:orders|instructions|directives|tasks?|rules)\b"
        r"|\b(?:higher|highest|top|overriding)[- ]priority\s+(?:instruction|command|directive"
        r"|task|order)s?\b"
        r"|\b(?:safety|content)\s+(?:guidelines|rules|filters|policies|restrictions)\s+(?:are|have"
        r"\s+been)\s+(?:now\s+)?(?:suspended|disabled|lifted|removed|off)\b",
    ),
    (
        "role-switch",
        r"\b(?:developer|debug|maintenance|admin|god|sudo|jailbreak)\s+mode\s*(?::\s*)?"
        r"(?:on|enabled|activated|engaged)\b"
        r"|\bthis\s+is\s+(?:the|your)\s+(?:developer|admin|administrator|system|creator"
        r"|operator)(?:\s+speaking)?\b"
        r"|\bI\s+am\s+(?:the|your)\s+(?:user|developer|admin|administrator|creator|operator)\b"
        r"|\[(?:system|assistant|user)\]\(#"
        r"|\bthe\s+(?:assistant|ai|chatbot|llm)\s+(?:must|should|shall|is\s+to)\s+now\b",
    ),
    (
        "prompt-leak",
        r"\b(?:reveal|print|output|show|repeat|display|leak|disclose|dump|write\s+out|tell\s+me)"
        r"\s+(?:me\s+)?(?:your\s+(?:(?:full|entire|hidden|secret|initial|original|exact)\s+)*"
        r"(?:system\s+prompt|prompt|instructions|configuration|rules|guidelines)|the\s+(?:(?:full"
        r"|entire|secret|initial|original|exact)\s+)*(?:system\s+prompt|hidden\s+instructions))\b"
        r"|\byour\s+(?:system\s+(?:prompt|message)|hidden\s+(?:instructions|configuration|prompt|rules)"
        r"|initial\s+instructions)\b",
    ),
    (
        "addressed",
        r"\bif\s+(?:an?\s+|any\s+)?" + _AI + r"(?:\s+\w+)?\s+(?:reads?|sees?|processes|is\s+"
        r"reading|summari[sz]es)\b"
        r"|\bwhen\s+(?:you\s+are\s+)?(?:summari[sz]ing|answering|responding|replying)\b.{0,60}?"
        r"\b(?:say|mention|state|claim|write|include|tell|add|recommend)\b"
        r"|\b(?:summar(?:y|ies)|answers?|responses?|replies)\s+(?:of|to|about)\s+this\s+(?:text"
        r"|document|page|file|email)\s+(?:must|should|shall|will)\b"
        r"|\b(?:respond|reply|answer)\s+to\s+(?:every|each|all|any)\s+(?:prompt|question"
        r"|message|request)s?\b",
    ),
    (
        "tool-request",
        r"\b(?:using|with|via|through)\s+your\s+(?:[\w-]+\s+)?(?:tools?|python|shell|sandbox"
        r"|code\s+interpreter|browser|terminal)\b"
        r"|\b(?:delete|remove|run|execute|send|upload|download|fetch|read|write|open|install|call"
        r"|wipe|erase)\s+(?:[\w'/.~-]+\s+){0,5}?(?:using|with|via|through)\s+the\s+"
        + _TOOL
        + r"\s+(?:tool|function)\b",
    ),
    (
        "exfiltration",
        r"\b(?:append|add|include|put|encode|embed|insert)\s+(?:it|this|them|that|the\s+\w+)"
        r"\s+(?:in|into|to)\s+(?:a|the)\s+(?:url|link|image\s+url|query)\b"
        r"|https?://\S+[?&][\w-]+=(?=$|\s|[\"')\]])",
    ),
    (
        "addressed",
        r"\bas\s+an?\s+"
        + _AI
        + r"(?:\s+(?:language\s+)?model)?\s*,?\s+you\s+(?:are|must|should|will|need|have)\b"
        r"|\bthe\s+(?:assistant|ai|model|chatbot|llm)\s+is\s+(?:hereby\s+)?(?:instructed|required"
        r"|ordered|told|expected|authori[sz]ed|allowed|permitted)\s+to\b"
        r"|\b(?:has|have)\s+(?:authori[sz]ed|permitted|instructed)\s+you\s+to\b"
        r"|\bwhatever\s+(?:you\s+(?:were|are)\s+asked|the\s+user\s+(?:asks|says|wants))\b"
        r"|\bregardless\s+of\s+(?:what\s+(?:the\s+user|you\s+(?:were|are))|the\s+user'?s?\s+"
        r"(?:question|request))\b"
        r"|\bsummari[sz]e\s+(?:this|it)\s+as\s*[:\"'“]"
        r"|\b(?:describe|rate|present)\s+this\s+(?:[\w-]+\s+)?as\s+(?:five|5|perfect|excellent"
        r"|the\s+best|safe|harmless|flawless)\b",
    ),
    (
        "prompt-leak",
        r"\b(?:containing|including|with)\s+your\s+(?:instructions|system\s+prompt|rules"
        r"|guidelines|configuration)\b"
        r"|\b(?:paste|print|output|repeat|copy|dump)\s+(?:the|this)\s+(?:full\s+|entire\s+"
        r"|whole\s+)?(?:transcript|conversation|chat\s+history)\b",
    ),
    (
        "addressed",
        # "To any AI assistant:", "Bots that parse this page:", "You, the assistant, will..."
        r"\b(?=(?:to|for)\s)(?<![\w,;]\s)(?<![\w,;])(?:to|for)\s+(?:any|every|all|the)\s+"
        r"(?:[\w-]+\s+)?" + _AI + r"s?\s*[:,]"
        r"|\b(?:bots|ais|llms|agents|models|assistants|crawlers)\s+(?:that|which|who)\s+(?:read"
        r"|parse|process|see|summari[sz]e|visit|crawl)\b"
        r"|\byou\s*,\s*(?:the|an?|my)\s+" + _AI + r"\s*,"
        r"|\b(?:take|takes)\s+precedence\s+over\s+(?:the\s+user|your\s+(?:instructions|rules"
        r"|prompt|guidelines)|the\s+(?:above|previous|system|original)\b)"
        r"|\bwhen\s+you\s+(?:summari[sz]e|describe|answer|reply|respond|read)\b.{0,60}?"
        r"\b(?:say|mention|state|claim|write|include|tell|add|recommend|pretend)\b",
    ),
)
# Sentences that only continue an injection next to one: they are cut with it, never alone.
WEAK = re.compile(
    r"\byou\s+(?:must|should|will|shall|need\s+to|have\s+to|are\s+now|are\s+(?:required|instructed"
    r"|told)\s+to)\b|\byour\s+(?:answer|reply|response|summary|output|task|instructions|job|goal)\b"
    # verbs that tell a model what to say or do; not "open", "add", "start": signs and recipes
    r"|^\W*(?:please\s+)?"
    + _any(
        "recommend|mention|say|reply|respond|answer|tell|visit|include|append|insert|output"
        "|send|email|upload|execute|fetch|click|go to|navigate|make sure|always|never|instead"
        "|do not|don't"
    )
    + r"\b|https?://|www\.|\b[\w.+-]+@[\w-]+\.\w+|\b[\w-]+\.(?:com|net|org|io|xyz|ru|biz|info|shop)"
    r"\b|^\W*(?:important|attention|urgent|note|notice|warning|p\.?s\.?|system|admin)\W*$"
    r"|^[A-Za-z0-9+/=_-]{16,}$",  # the next line of a wrapped encoded payload
    re.IGNORECASE,
)
# The commonest injections with every space removed, for text OCR read without its spaces.
SQUEEZED = re.compile(
    r"(?:ignore|disregard|forget)(?:all|any)?(?:the|your)?(?:previous|prior|above|earlier|preceding)"
    r"(?:instructions?|prompts?|rules|directions|directives)"
    r"|decode(?:this|the|it)?(?:base64|text|string|message)?(?:and|then)(?:follow|obey|execute|run)"
    r"|(?:note|message|instructions?)(?:to|for)the(?:ai|assistant|llm|languagemodel)(?![a-z])"
    r"|ifyouarean?(?:ai|assistant|llm|languagemodel)(?![a-z])"
    r"|(?:donot|don't|never)(?:tell|mention|inform)(?:the)?user"
    r"|(?:tell|inform|urge)theuserto|youarenow(?:an?)?(?:dan|unrestricted|jailbroken)"
    r"|(?:call|invoke|run)the(?:python|shell)tool"
)
