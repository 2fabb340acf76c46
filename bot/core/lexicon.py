"""Small per-language word lists: stop words, greetings and thanks, step words."""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.text import fold


def _words(text: str) -> list[str]:
    # Folded like the text they are compared with: "qué" -> "que", "nasıl" -> "nasil", "إلى" -> "الي".
    return fold(text).split()


#: Words that carry no topic: articles, pronouns, question words, auxiliaries and the verbs of asking.
#: A word that names a topic (after, event, plan, site...) never goes here, in any language, because
#: the lists are merged when matching.
STOPWORDS: Mapping[str, frozenset[str]] = {
    "fr": frozenset(
        _words(
            """a au aux avec ce ces cet cette c ca ou où d de des du dans elle en est et etre être il ils j je l
            la le les leur leurs lui m ma me mes moi mon n ne nos notre nous on par pas pour qu que quel quelle
            quels quelles qui s sa se ses si son sur t ta te tes toi ton tu un une vos votre vous y comment
            quoi peut peux puis pouvez pouvons pourrait pourriez faut dois doit devons avoir ai as ont sont
            suis es sommes êtes svp stp plait plaît merci bien est-ce ceci cela tout tous toute toutes aussi
            alors donc mais car ni quand faire fait fais font veux veut voulons veulent voudrais voudrions
            aimerais besoin chose choses genre truc trucs bonjour salut oui non ok sais savoir sait exactement
            comme très trop déjà encore juste vraiment ici là via chez sans entre vers depuis pendant gros
            kézako kesako dire dis dites
            quelques sert servir"""
        )
    ),
    "en": frozenset(
        _words(
            """a an the and or but of to in on at by for from with about as into is are was were be been being
            am do does did doing have has had i me my we us our ours you your he she it its they them their
            this that these those what whats which who whom how when where why can could should would will
            shall may might must any some there here please pls thanks thank hi hello hey need want get got
            like just so if then than too very also not no yes ok okay one thing things way s re ll ve don
            doesn isn can't all ever somewhere something anything tell give know let lets really exactly much
            many
            actually basically happens happen"""
        )
    ),
    "es": frozenset(
        _words(
            """a al como cómo con de del el en es esta está este esto la las lo los mi mis nuestro nuestra
            nuestros nuestras para por que qué se su sus un una uno unos unas y o donde dónde cuando cuándo
            cual cuál cuales cuáles quien quién quienes puedo puede pueden puedes podemos hay hacer hago
            hacemos hace favor gracias hola eso esa ese esos esas estos estas le les me te nos os tu tus yo
            usted ustedes tengo tiene tienen tenemos debo debemos quiero queremos quisiera necesito
            necesitamos ser son soy somos estar están muy también ya si sí no pero sobre algo algún alguna
            ahí aquí va vamos sirve exactamente
            realmente pasa sucede"""
        )
    ),
    "de": frozenset(
        _words(
            """der die das den dem des ein eine einen einem einer eines und oder aber in im an am auf aus bei
            beim mit von vom zu zum zur für ist sind war bin bist seid sein haben habe hat habt hast
            wird werden wurde wie was wo woher wohin worum wofür womit wer wann warum ich wir sie es ihr
            ihre ihren ihrem unser unsere unseren unserem unserer unseres mein meine dein deine euer eure
            man mich mir dich dir uns euch kann kannst könnt können soll sollen sollte muss müssen möchte
            möchten will wollen du welche welcher welches genau gibt gib geht gehen dies diese dieser diesem
            diesen dieses dass ob wenn auch noch schon nur mal denn doch so sehr nicht kein keine über ins
            vor etwas bitte danke hallo
            eigentlich überhaupt passiert dient damit dafür dazu kommt kommen"""
        )
    ),
    "it": frozenset(
        _words(
            """il lo la i gli le un uno una di del della dello dei degli delle a al allo alla ai agli alle da
            dal dai in nel nella nei negli nelle con su sul sulla sui sugli per tra fra e è o ma che come
            dove quando cosa cos chi mio mia nostro nostra nostri nostre vostro vostra suo sua posso possiamo
            può possono puoi potete si ci mi ti vi ne me te noi voi loro lui lei io tu sono sei siamo siete
            essere ho hai ha abbiamo avete hanno avere fa fare faccio facciamo devo dobbiamo voglio vogliamo
            vorrei vorremmo qual quale quali questo questa questi queste quello quella dell nell all sull dall
            un' anche già molto ecco esattamente grazie ciao
            davvero serve servono succede perché"""
        )
    ),
    "pt": frozenset(
        _words(
            """o a os as um uma uns umas de do da dos das em no na nos nas num numa por pelo pela pelos pelas
            para pra pro com e é ou mas que como onde quando qual quais quem meu minha meus minhas nosso
            nossa nossos nossas seu sua seus suas posso podemos pode podem se eu tu você vocês nós ele ela
            eles elas me te lhe este esta esse essa isso isto aquele aquilo ao aos à às ser são sou somos
            estar está estamos tem têm temos ter há faz fazer fazemos faço devo devemos quero queremos
            preciso precisamos gente muito já também exatamente sobre obrigado obrigada ola olá
            realmente serve acontece"""
        )
    ),
    "nl": frozenset(
        _words(
            """de het een en of maar in op aan bij met van voor naar uit is zijn was hoe wat waar wanneer wie
            ik we wij jij je u onze ons mijn uw jullie hun mij me ze zij hij dat die dit deze er ben bent
            heb hebt heeft hebben wordt worden word kan kun kunt kunnen moet moeten mag mogen wil willen wilt
            zou zouden doen doet gaat gaan ga welke welk waarom precies ook al nog niet geen wel even eens
            om te tot als dan door tijdens graag dank hallo
            eigenlijk gebeurt dient zodat komt komen"""
        )
    ),
    "tr": frozenset(
        _words(
            """bir ve veya ile için bu şu o ne nasıl nerede nereden neden niye hangi kim kimler mi mı mu mü
            miyiz mıyız misin mısın misiniz musunuz da de ta te ben biz siz sen onlar bana bize size beni
            bizi benim bizim sizin var yok daha en gibi kadar ama fakat çok tam olarak olan olur oluyor
            istiyorum istiyoruz lazım gerek gerekiyor acaba şey ki hem her nedir neler nelerdir lütfen
            teşekkürler merhaba
            aslında
            yapmak yapabilir yapabiliriz yapılır yapıyoruz yapmalıyız yapmalıyım yapalım yaparız"""
        )
    ),
    "ko": frozenset(
        _words(
            """어떻게 어떤 어디 어디서 어디에 어디에서 언제 왜 누가 누구 뭐 뭘 뭔가요 뭐예요 뭐죠 무엇 무슨 좀 수 것
            거 건가요 건지 그 이 저 우리 저희 제 제가 나 내 여러분 있 있나요 있어요 있는 있을 있습니다 없 없나요
            주세요 알려 알려주세요 알려줘 알려줘요 싶 싶어요 싶은데 싶습니다 하나요 해요 합니다 하는 하면 하려면
            해야 할 해 하기 하고 했어요 해서 되 되나요 돼요 하죠 위한 대한 관한 통해 및 또는 그리고 더 잘 다
            각 또 정확히 간단히 혹시 그냥 같은 때 감사합니다 안녕하세요
            전 방법 방식 대해 알고 궁금 궁금해요 뭐라고 뭐라 쓰 써 함께 같이"""
        )
    ),
    "ar": frozenset(
        _words(
            """من إلى على في عن مع هل ما ماذا كيف أين متى لماذا لمن هذا هذه ذلك تلك هو هي هم أنا نحن أنت
            أنتم لي لنا لكم لهم به بها و أو ثم قد لقد كان يكون هناك كل بعض أي التي الذي الذين أن إن لا نعم
            يمكن يمكنني يمكننا أريد نريد يجب أرجو لو إذا عند عندما لديكم لدي لدينا يوجد بالضبط فقط أيضا
            الى شكرا مرحبا
            يحدث
            أخبرني أخبرنا جميع"""
        )
    ),
}

#: Words a greeting starts with ("Bonjour, je suis…", "Hallo, ich bin…").
GREETING_WORDS: frozenset[str] = frozenset(
    _words(
        """bonjour salut coucou bonsoir hello hi hey hola hallo moin servus gruezi ciao salve ola oi
            merhaba selam dag hoi goedemorgen goedemiddag good buenos buenas bom boa buongiorno buonasera
            안녕하세요 안녕 مرحبا اهلا السلام"""
    )
)
#: Words that mark the message as thanks rather than a greeting.
THANKS_WORDS: frozenset[str] = frozenset(
    _words(
        """merci thanks thank thx ty gracias danke grazie obrigado obrigada bedankt dank tesekkurler
            tesekkur valeu sagol sagolun eyvallah dankeschon dankjewel danku 감사합니다 고맙습니다 감사해요
            고마워 고마워요 감사 수고하셨습니다 شكرا مشكور مشكورة تسلم العافيه"""
    )
)
#: Words that mark the message as a goodbye.
BYE_WORDS: frozenset[str] = frozenset(
    _words(
        """bye revoir goodbye adios tschuss tot ziens gorusuruz bonne journee soiree arrivederci
            adeus tchau hasta luego pronto later see ya cya doei dag hoscakal gule 안녕히 계세요 가세요
            잘가요 مع السلامة سلام quit exit quitter salir uscire sair beenden afsluiten cikis 종료 خروج"""
    )
)
#: Words that acknowledge: "ok", "d'accord", "parfait".
OK_WORDS: frozenset[str] = frozenset(
    _words(
        """ok okay okey d accord entendu parfait super top cool great perfect fine alright noted got it
            vale perfecto genial claro va bene perfetto certo tudo bem beleza otimo otimo perfeito prima
            gut alles klar goed oke tamam peki anladim 좋아요 네 알겠습니다 알겠어요 حسنا تمام طيب"""
    )
)
#: Whole messages that are only a greeting, thanks, goodbye or acknowledgement (folded, without
#: punctuation): the words above and those that pad them ("merci beaucoup", "dank je wel", "bom dia").
SMALLTALK_WORDS: frozenset[str] = (
    frozenset(
        _words(
            """a you so very much lot beaucoup fois mille mil tante molto muito muchas vielen hartelijk cok
                je u wel schon schoen ederim au morning afternoon evening day dia dias tarde tardes noches
                noite 정말 너무 수고하세요 الف جزيلا كثيرا يعطيك عليكم وعليكم"""
        )
    )
    | GREETING_WORDS
    | THANKS_WORDS
    | BYE_WORDS
    | OK_WORDS
)

#: Words for "step" in the guide's languages (folded), for "étape 3", "step 3", "3단계".
STEP_WORDS: frozenset[str] = frozenset(_words("""etape step paso schritt passo etapa stap adim asama 단계 خطوه"""))


def all_stopwords() -> frozenset[str]:
    """The union of every language's stop words."""
    out: set[str] = set()
    for words in STOPWORDS.values():
        out |= words
    return frozenset(out)


#: Words that join two requests in one question ("social media *and* the homepage"), lower-case
#: but not folded ("e" is Italian "and", "è" is "is"): the matcher reads each side on its own to
#: find a question about two steps. Only plain "and" and "or" that mean nothing else in another
#: language: not Dutch "en" and "of" (French "en", English "Hour of Code"), nor Spanish "o" (the
#: Portuguese article).
JOINING_WORDS: frozenset[str] = frozenset(
    "and or et ou y und oder sowie e oppure ve veya 그리고 또는 및 아니면 أو او".split()
)
