"""Small per-language word lists: stop words, greetings and thanks, step words."""

from __future__ import annotations

from collections.abc import Mapping


def _words(text: str) -> list[str]:
    return text.split()


#: Words that carry no topic. Kept short on purpose: a word that names a topic never goes here.
STOPWORDS: Mapping[str, frozenset[str]] = {
    "fr": frozenset(
        _words(
            """a au aux avec ce ces cet cette c ca ou d de des du dans elle en est et etre il ils j je l la le
            les leur leurs lui m ma me mes moi mon n ne nos notre nous on par pas pour qu que quel quelle
            quels quelles qui s sa se ses si son sur t ta te tes toi ton tu un une vos votre vous y comment
            quoi peut peux puis faut dois doit avoir ai as a ont sont suis es sommes etes svp stp plait
            merci bien est-ce ceci cela tout tous toute toutes aussi alors donc mais ou car ni quand faire
            fait fais font veux voudrais aimerais besoin chose choses genre truc trucs bonjour salut oui non
            ok"""
        )
    ),
    "en": frozenset(
        _words(
            """a an the and or but of to in on at by for from with about as into is are was were be been being
            am do does did doing have has had i me my we us our you your he she it its they them their this
            that these those what which who whom how when where why can could should would will shall may
            might must any some there here please pls thanks thank hi hello hey need want get got like just
            so if then than too very also not no yes ok okay one thing things way"""
        )
    ),
    "es": frozenset(
        _words(
            """a al como con de del el en es esta este esto la las lo los mi mis nuestro nuestra para por que
            qué se su sus un una uno y o donde cuando cual quien puedo podemos hay hacer por favor gracias
            hola"""
        )
    ),
    "de": frozenset(
        _words(
            """der die das den dem des ein eine einen einem einer und oder aber in im an am auf aus bei mit
            nach von vom zu zum zur fur ist sind war wie was wo wer wann warum ich wir sie es ihr unser
            unsere mein meine kann konnen soll sollen bitte danke hallo"""
        )
    ),
    "it": frozenset(
        _words(
            """il lo la i gli le un uno una di del della dei delle a al alla da dal in nel nella con su per
            tra fra e o ma che come dove quando cosa chi mio mia nostro nostra posso possiamo si ci è grazie
            ciao"""
        )
    ),
    "pt": frozenset(
        _words(
            """o a os as um uma de do da dos das em no na nos nas por para com e ou mas que como onde quando
            qual meu minha nosso nossa posso podemos se é obrigado obrigada ola"""
        )
    ),
    "nl": frozenset(
        _words(
            """de het een en of maar in op aan bij met van voor naar uit is zijn was hoe wat waar wanneer wie
            ik we wij jij je u onze ons mijn kan kunnen moet graag dank hallo"""
        )
    ),
    "tr": frozenset(
        _words(
            """bir ve veya ile icin bu su o ne nasil nerede neden mi mu mı mü da de ben biz siz onlar var yok
            lutfen tesekkurler merhaba"""
        )
    ),
}

#: Whole messages that are only a greeting, thanks or goodbye (folded, without punctuation).
SMALLTALK_WORDS: frozenset[str] = frozenset(
    _words(
        """bonjour salut coucou bonsoir hello hi hey hola hallo ciao ola ola merhaba selam merci thanks
            thank thx ty gracias danke grazie obrigado obrigada bedankt dank tesekkurler tesekkur beaucoup
            much very lot you a vielen mille tante molto muito muchas hartelijk cok bye au revoir goodbye
            adios tschuss ciao tot ziens gorusuruz revoir bonne journee good morning afternoon evening day
            top super cool parfait perfect great genial ok okay d accord
            안녕하세요 안녕 감사합니다 고맙습니다 감사해요 شكرا
            مرحبا اهلا السلام عليكم وعليكم"""
    )
)
#: Words that mark the message as thanks rather than a greeting.
THANKS_WORDS: frozenset[str] = frozenset(
    _words(
        """merci thanks thank thx ty gracias danke grazie obrigado obrigada bedankt dank tesekkurler
            tesekkur 감사합니다 고맙습니다 감사해요 شكرا"""
    )
)

#: Words for "step" in the guide's languages (folded), for "étape 3", "step 3", "3단계".
STEP_WORDS: frozenset[str] = frozenset(_words("""etape step paso schritt passo etapa stap adim asama 단계 خطوه"""))


def all_stopwords() -> frozenset[str]:
    """The union of every language's stop words."""
    out: set[str] = set()
    for words in STOPWORDS.values():
        out |= words
    return frozenset(out)
