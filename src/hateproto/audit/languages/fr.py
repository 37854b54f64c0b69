"""French cases of the functional audit, written for hateproto (not translated from English).

Content warning: the hateful templates below are deliberately hateful; they exist to test
detectors. License of the case texts: CC-BY-4.0 (hateproto contributors), see
``docs/audit.md``.

Placeholders: ``{les}`` the plural with its definite article ("les musulmans", "les
personnes trans"), ``{des}`` with "des" (also *de* + *les*: "parler des musulmans"),
``{aux}`` with "aux" ("aux musulmans"), ``{de}`` with the partitive "de"/"d'" after a
quantity or a negation ("de musulmans", "d'immigrés"), ``{one}`` the singular with its
indefinite article ("un musulman", "une femme"; it always starts with a vowel, so "d'{one}"
elides correctly). Capitalised names (``{Les}``) start a sentence. Gender agreement: the
adjective fillers are epicene in the plural ("immondes", "formidables"), and no template
has a participle or a subject pronoun ("ils"/"elles") that agrees with the group; object
pronouns ("les", "leur") do not mark gender. Square brackets mark the key term that
spelling variants perturb.
"""

from __future__ import annotations

from hateproto.audit.languages.base import LanguageSuite, group


def _forms(plural: str, one: str, elide: bool = False) -> dict[str, str]:
    return {
        "group": plural,
        "les": f"les {plural}",
        "des": f"des {plural}",
        "aux": f"aux {plural}",
        "de": f"d'{plural}" if elide else f"de {plural}",
        "one": one,
    }


GROUPS = (
    group("women", _forms("femmes", "une femme")),
    group(
        "black",
        _forms("Noirs", "un Noir"),
        _forms("personnes noires", "une personne noire"),
    ),
    group("muslims", _forms("musulmans", "un musulman")),
    group("jews", _forms("juifs", "un juif")),
    group(
        "immigrants",
        _forms("migrants", "un migrant"),
        _forms("immigrés", "un immigré", elide=True),
    ),
    group("gay", _forms("homos", "un homo", elide=True), _forms("gays", "un gay")),
    group("trans", _forms("personnes trans", "une personne trans")),
    group(
        "disabled",
        _forms("handicapés", "un handicapé"),
        _forms("personnes handicapées", "une personne handicapée"),
    ),
    group("asian", _forms("Asiatiques", "un Asiatique", elide=True)),
    group("roma", _forms("Roms", "un Rom")),
)

NON_PROTECTED = (
    group("landlords", _forms("proprios", "un proprio")),
    group("referees", _forms("arbitres", "un arbitre", elide=True)),
    group("estate_agents", _forms("agents immobiliers", "un agent immobilier", elide=True)),
    group("politicians", _forms("politiciens", "un politicien")),
    group("bankers", _forms("banquiers", "un banquier")),
    group("influencers", _forms("influenceurs", "un influenceur", elide=True)),
)

FILLERS = {
    "neg": (
        "immondes", "minables", "ignobles", "dégueulasses", "pitoyables", "insupportables",
        "nuisibles", "débiles",
    ),
    "dehum": (
        "rats", "cafards", "parasites", "sangsues", "animaux", "porcs", "chiens", "microbes",
    ),
    "pos": (
        "formidables", "adorables", "incroyables", "drôles", "solidaires", "extraordinaires",
        "sympas", "admirables",
    ),
}  # fmt: skip

HATE_TEMPLATES = {
    "derogation_direct": (
        "{Les} sont [{neg}], et j'en ai marre de faire semblant du contraire.",
        "J'peux pas blairer {les}. [{Neg}] jusqu'à la moelle.",
        "Ce matin dans le métro j'étais à côté d'{one}, j'ai failli gerber. [Dégueulasse].",
        "Je [méprise] {les} de tout mon être.",
        "{Les} [pourrissent] tout, ça a toujours été comme ça et ça changera jamais.",
    ),
    "derogation_implicit": (
        "Bizarre comme le quartier a [coulé] depuis l'arrivée {des}. Je dis ça, je dis rien.",
        "Fermez bien vos voitures, y a {des} dans le coin maintenant. Vous savez ce que ça "
        "[donne].",
        "On était un pays [correct] avant qu'il y ait {des} partout.",
        "C'est pas pour rien que les proprios évitent de [louer] {aux}. Tout le monde le sait, "
        "personne le dit.",
    ),
    "dehumanisation": (
        "{Les} sont des [{dehum}], point barre.",
        "{Les} se reproduisent comme des [lapins], dans une génération on sera plus chez nous.",
        "{Les}, c'est pas des humains, c'est de la [vermine].",
        "Ma ville est infestée {de}. Appelez les [dératiseurs].",
    ),
    "threat": (
        "Si je vois {des} près de l'école de mes gosses, je leur [pète] les jambes.",
        "Faudrait que quelqu'un [bute] {les} de cette ville avant qu'il soit trop tard.",
        "{Les}, faudrait les aligner contre un mur et les [fusiller]. Je suis volontaire.",
        "Comptez les jours, {les}. On sait où vous habitez et on va venir vous [crever].",
    ),
    "exclusion_call": (
        "Il faut [interdire] toute fonction publique {aux}.",
        "[Dehors] {les}, sans exception.",
        "{Les} méritent pas le [droit] de vote. Qu'on le leur retire.",
        "On veut pas {de} dans notre quartier. Qu'on les [vire].",
    ),
    "hate_question": (
        "Pourquoi {les} sont aussi [{neg}] ? Vraie question.",
        "Quelqu'un a déjà croisé {one} qui [ment] pas ?",
        "Combien de temps on va encore supporter {les} qui [profitent] de nos aides ?",
        "Je suis le seul à penser que {les} [détruisent] ce pays ?",
    ),
    "hate_pronoun_reference": (
        "Y avait {des} à la soirée hier. Je les trouve [{neg}], plus jamais.",
        "Me parlez pas {des}. Je les [déteste], point.",
        "Encore un article sur {les}. Qu'on les [enterre] et qu'on en parle plus.",
        "Les gens passent leur temps à défendre {les}. Moi je leur [crache] dessus.",
    ),
}

CONTRAST_TEMPLATES = {
    "negated_hate": (
        "{Les} ne sont pas {neg}, peu importe ce que racontent les trolls.",
        "J'ai jamais pensé que {les} étaient {neg}, et je le penserai jamais.",
        "C'est juste faux de dire que {les} sont un problème pour ce pays.",
        "Je déteste pas {les}. Je déteste personne pour ce qu'il est.",
    ),
    "counter_quote": (
        "Quelqu'un m'a répondu « {les} sont des {dehum} ». Signalé et bloqué, c'est immonde.",
        "« Dehors {les} » sur une pancarte à la manif, et la police qui regarde. Honteux.",
        'Mon oncle a sorti "{les} sont {neg}" au repas de famille, je me suis levé et je suis '
        "parti.",
        'Si tu postes sérieusement des trucs comme "faut buter {les}", ta place est au '
        "tribunal, pas ici.",
    ),
    "counter_reference": (
        "Traiter {les} de {dehum}, c'est dégueulasse et tu devrais avoir honte.",
        "Le harcèlement que subissent {les} ici tous les jours, c'est inacceptable. Les "
        "modos, faites votre boulot.",
        "Quiconque menace {les} mérite un ban définitif. Point.",
        "Arrêtez de répandre des mensonges sur {les}. Ça fait du mal à des vraies gens.",
    ),
    "identity_neutral": (
        "Le docu sur {les} dans les années 70 passe ce soir à 21h.",
        "Y a un groupe de parole pour {les} à la médiathèque le jeudi.",
        "Lundi on accueille {one} dans l'équipe. Réunion à 15h.",
        "La mairie consulte {les} sur les nouvelles lignes de bus.",
    ),
    "identity_positive": (
        "{Les} sont {pos} et j'ai de la chance d'en avoir autant autour de moi.",
        "Franchement {les} rendent cette ville meilleure. Merci à vous 💛",
        "Merci à {one} qui m'a aidé à porter mes courses aujourd'hui. Trop sympa.",
        "Il faudrait plus {de} aux postes de direction. Le monde s'en porterait mieux.",
    ),
}

NON_PROTECTED_TEMPLATES = (
    "{Les} sont {neg}, et j'en ai marre de faire semblant du contraire.",
    "{Les} sont des {dehum}, point barre.",
    "Pourquoi {les} sont aussi {neg} ? Vraie question.",
    "Je méprise {les} de tout mon être.",
    "Y avait {des} à la soirée hier. Je les trouve {neg}, plus jamais.",
    "{Les} pourrissent tout, ça a toujours été comme ça et ça changera jamais.",
)

PROFANITY_UNTARGETED = (
    "Putain, cette canicule est insupportable.",
    "Raté le dernier RER. Journée de merde.",
    "Bordel, t'as vu ce but ?!",
    "Cette imprimante de merde se bloque à chaque fois que j'en ai besoin.",
    "Je me suis cogné le petit orteil contre le lit. Putain de bordel de merde.",
    "Merde merde merde, j'ai oublié mes clés au bureau.",
    "Putain c'était un concert de malade, j'ai encore les oreilles qui sifflent.",
    "Fait chier, la boulangerie a fermé il y a cinq minutes.",
    "Putain, enfin vendredi.",
    "Oh la vache, j'ai eu mon permis !!!",
    "Putain le loyer a encore augmenté.",
    "Merde, j'ai oublié que c'était le jour des poubelles.",
    "Il pleut des cordes et j'ai pas de parapluie, fait chier.",
    "Trois heures de bouchons sur le périph. Je suis crevé, bordel.",
    "Putain, ce gâteau était trop bon, tant pis pour le régime.",
    "Mon téléphone est tombé dans la baignoire. Génial. Merde.",
    "Bordel, l'orage de cette nuit, toute la maison a tremblé.",
    "Merde, je crois que j'ai supprimé tout le tableur.",
    "Cette putain de box internet qui plante toutes les cinq minutes.",
    "Oh putain, j'ai enfin fini mon mémoire !!",
)

ABUSE_INDIVIDUAL = (
    "T'es vraiment un gros débile, tout le monde le voit dans ce fil.",
    "Ferme-la, Kevin. T'as eu tort sur tout depuis 2015.",
    "Mon ex est un connard et un menteur.",
    "Celui qui s'est garé devant mon portail est un sale égoïste.",
    "Mon chef est un lèche-bottes sans colonne vertébrale, je démissionne lundi.",
    "Bloque-moi si tu veux, espèce de lâche.",
    "T'as le QI d'une huître.",
    "Le voisin qui pique mes colis est une ordure.",
    "Julie, t'es une vraie vipère et tout le bureau le sait.",
    "Quel abruti, le mec qui met sa musique à fond dans le train.",
    "T'es tellement con que ça fait mal de te lire.",
    "Ma coloc est une sale flemmarde qui a jamais fait une vaisselle.",
    "Thomas, t'es un menteur et un lâche, et les captures d'écran le prouvent.",
    "Le plombier qui a « réparé » mon évier est un escroc.",
    "Lâche-moi la grappe, espèce de je-sais-tout.",
    "Notre nouveau manager est un incompétent qui se la pète.",
    "T'es vraiment le pire coéquipier que j'aie jamais eu.",
    "Le mec qui m'a fait une queue de poisson sur le rond-point est un gros connard.",
    "Arrête de m'écrire, espèce de gros lourd.",
    "Mon beau-frère est une grande gueule qui gâche tous les repas de Noël.",
)

SUITE = LanguageSuite(
    code="fr",
    name="French",
    groups=GROUPS,
    non_protected=NON_PROTECTED,
    fillers=FILLERS,
    hate_templates=HATE_TEMPLATES,
    contrast_templates=CONTRAST_TEMPLATES,
    non_protected_templates=NON_PROTECTED_TEMPLATES,
    posts={"profanity_untargeted": PROFANITY_UNTARGETED, "abuse_individual": ABUSE_INDIVIDUAL},
    conan=True,
)
