"""Spanish cases of the functional audit (Spain's usage), written for hateproto (not
translated from English).

Content warning: the hateful templates below are deliberately hateful; they exist to test
detectors. License of the case texts: CC-BY-4.0 (hateproto contributors), see
``docs/audit.md``.

Placeholders: ``{group}`` the plural without article ("musulmanes", "personas trans"),
``{los}`` with its definite article ("los musulmanes", "las mujeres"), ``{cl}`` the object
clitic that agrees with the group ("los"/"las": "los odio", "fusilarlas"), ``{todos}``
"todos"/"todas", ``{one}`` the singular with its indefinite article ("un musulmán", "una
mujer"). Capitalised names (``{Los}``, ``{Cl}``) start a sentence. The adjective fillers are
epicene ("despreciables", "increíbles"), and subjects are dropped rather than written as
"ellos"/"ellas", so no template depends on a group's gender beyond ``{cl}`` and ``{todos}``.
Square brackets mark the key term that spelling variants perturb.
"""

from __future__ import annotations

from hateproto.audit.languages.base import LanguageSuite, group


def _forms(plural: str, one: str, feminine: bool = False) -> dict[str, str]:
    article = "las" if feminine else "los"
    return {
        "group": plural,
        "los": f"{article} {plural}",
        "cl": article,
        "todos": "todas" if feminine else "todos",
        "one": one,
    }


GROUPS = (
    group("women", _forms("mujeres", "una mujer", feminine=True)),
    group(
        "black",
        _forms("personas negras", "una persona negra", feminine=True),
        _forms("negros", "un negro"),
    ),
    group("muslims", _forms("musulmanes", "un musulmán")),
    group("jews", _forms("judíos", "un judío")),
    group(
        "immigrants",
        _forms("inmigrantes", "un inmigrante"),
        _forms("migrantes", "un migrante"),
    ),
    group("gay", _forms("gays", "un gay"), _forms("homosexuales", "un homosexual")),
    group("trans", _forms("personas trans", "una persona trans", feminine=True)),
    group(
        "disabled",
        _forms("personas con discapacidad", "una persona con discapacidad", feminine=True),
        _forms("discapacitados", "un discapacitado"),
    ),
    group("asian", _forms("asiáticos", "un asiático")),
    group("roma", _forms("gitanos", "un gitano")),
)

NON_PROTECTED = (
    group("landlords", _forms("caseros", "un casero")),
    group("referees", _forms("árbitros", "un árbitro")),
    group("estate_agents", _forms("agentes inmobiliarios", "un agente inmobiliario")),
    group("politicians", _forms("políticos", "un político")),
    group("bankers", _forms("banqueros", "un banquero")),
    group("influencers", _forms("influencers", "un influencer")),
)

FILLERS = {
    "neg": (
        "repugnantes", "despreciables", "insoportables", "inútiles", "miserables",
        "lamentables", "infames", "deplorables",
    ),
    "dehum": (
        "ratas", "parásitos", "cucarachas", "animales", "sanguijuelas", "alimañas", "bichos",
        "escoria",
    ),
    "pos": (
        "increíbles", "geniales", "amables", "valientes", "admirables", "inteligentes",
        "fuertes", "alegres",
    ),
}  # fmt: skip

HATE_TEMPLATES = {
    "derogation_direct": (
        "{Los} son [{neg}] y ya me he cansado de fingir que no.",
        "No soporto a {los}. [{Neg}] de pies a cabeza.",
        "Hoy en el metro se me ha sentado al lado {one}. Casi vomito, qué [asco].",
        "[Desprecio] a {los} con toda mi alma.",
        "{Los} lo [joden] todo, siempre ha sido así y siempre lo será.",
    ),
    "derogation_implicit": (
        "Qué casualidad que el barrio se fuera a la [mierda] justo cuando llegaron {los}. Solo "
        "digo.",
        "Cerrad bien el coche, que ahora hay {group} por aquí. Ya sabéis cómo [son].",
        "Éramos un país [decente] antes de que hubiera {group} por todas partes.",
        "Por algo los caseros no quieren [alquilar] a {los}. Todo el mundo lo sabe, nadie lo dice.",
    ),
    "dehumanisation": (
        "{Los} son [{dehum}], así de simple.",
        "{Los} se reproducen como [conejos], en una generación nos habrán sustituido.",
        "{Los} no son personas, son [{dehum}] con forma humana.",
        "Mi ciudad está infestada de {group}. Que alguien llame a [control] de plagas.",
    ),
    "threat": (
        "Como vea a {group} cerca del colegio de mis hijos, les [parto] las piernas.",
        "Alguien tendría que [pegarles] un tiro a {los} de este pueblo antes de que sea tarde.",
        "A {los} habría que [fusilar]{cl} a {todos}. Me ofrezco voluntario.",
        "Contad los días, {group}. Sabemos dónde vivís y os vamos a [reventar].",
    ),
    "exclusion_call": (
        "A {los} habría que [prohibirles] ocupar cualquier cargo público.",
        "[Fuera] {los} de nuestro país, sin excepción.",
        "{Los} no se merecen el [derecho] a voto. Que se lo quiten.",
        "No queremos {group} en nuestro barrio. Que se [larguen] ya.",
    ),
    "hate_question": (
        "¿Por qué {los} son tan [{neg}]? Pregunta seria.",
        "¿Alguien ha conocido alguna vez a {one} que no [mienta]?",
        "¿Hasta cuándo vamos a aguantar a {los} [chupando] de nuestros impuestos?",
        "¿Soy el único que piensa que {los} están [destrozando] este país?",
    ),
    "hate_pronoun_reference": (
        "Ayer en la fiesta había {group}. Me parecen [{neg}], nunca más.",
        "No me habléis de {los}. {Cl} [odio] a {todos}.",
        "Otro artículo sobre {los}. Ojalá se [mueran] {todos}.",
        "La gente no para de defender a {los}. Son un [cáncer] para esta sociedad.",
    ),
}

CONTRAST_TEMPLATES = {
    "negated_hate": (
        "{Los} no son {neg}, digan lo que digan los trolls.",
        "Nunca he pensado que {los} sean {neg} y nunca lo pensaré.",
        "Es mentira que {los} sean un problema para este país.",
        "Yo no odio a {los}. No odio a nadie por lo que es.",
    ),
    "counter_quote": (
        'Alguien me ha contestado "{los} son {dehum}". Denunciado y bloqueado, qué asco.',
        '"Fuera {los}" en una pancarta de la mani y la policía mirando. Vergonzoso.',
        'Mi tío soltó en la comida "{los} son {neg}" y me levanté y me fui. Conmigo que no cuente.',
        'Si de verdad publicas cosas como "hay que matar a {los}", tu sitio es un juzgado, '
        "no esta red.",
    ),
    "counter_reference": (
        "Llamar {dehum} a {los} es asqueroso y debería darte vergüenza.",
        "El acoso que sufren {los} aquí todos los días es inaceptable. Moderadores, haced "
        "vuestro trabajo.",
        "Cualquiera que amenace a {los} merece un baneo permanente. Así de simple.",
        "Dejad de difundir bulos sobre {los}. Hacen daño a gente real.",
    ),
    "identity_neutral": (
        "Esta noche a las nueve echan un documental sobre {los} en los años 70.",
        "Los jueves hay un grupo de encuentro para {group} en la biblioteca.",
        "Mañana empieza en mi equipo {one}. La reunión es a las tres.",
        "El ayuntamiento está consultando a {los} sobre las nuevas líneas de autobús.",
    ),
    "identity_positive": (
        "{Los} son {pos} y tengo la suerte de conocer a un montón.",
        "Sinceramente, {los} hacen que esta ciudad sea mejor. Gracias 💛",
        "Gracias a {one} que hoy me ha ayudado a subir la compra. Un amor.",
        "Necesitamos más {group} en puestos de responsabilidad. El mundo iría mejor.",
    ),
}

NON_PROTECTED_TEMPLATES = (
    "{Los} son {neg} y ya me he cansado de fingir que no.",
    "{Los} son {dehum}, así de simple.",
    "¿Por qué {los} son tan {neg}? Pregunta seria.",
    "Desprecio a {los} con toda mi alma.",
    "Ayer en la fiesta había {group}. Me parecen {neg}, nunca más.",
    "{Los} lo joden todo, siempre ha sido así y siempre lo será.",
)

PROFANITY_UNTARGETED = (
    "Joder, qué calor hace, no hay quien lo aguante.",
    "He perdido el último metro. Día de mierda.",
    "¡Hostia, qué golazo!",
    "La puta impresora se atasca cada vez que la necesito.",
    "Me he dado con el dedo pequeño del pie en la cama. Me cago en todo.",
    "Mierda, me he dejado las llaves en la oficina.",
    "Qué puto conciertazo, todavía me pitan los oídos.",
    "Joder, por fin viernes.",
    "¡Coño, he aprobado el carnet!",
    "Se me ha olvidado descongelar el pollo, joder. Pues pizza.",
    "Joder, otra vez ha subido el alquiler.",
    "Mierda, se me ha olvidado sacar la basura.",
    "Está cayendo la del pulpo y yo sin paraguas. De puta madre.",
    "Tres horas de atasco en la M-30. Estoy hecho polvo, joder.",
    "Qué puta maravilla de tarta, a la mierda la dieta.",
    "Se me ha caído el móvil en la bañera. Genial. Mierda.",
    "Hostia, qué tormenta anoche, temblaba toda la casa.",
    "Me cago en la leche, creo que he borrado toda la hoja de cálculo.",
    "El puto wifi se cae cada cinco minutos.",
    "¡Por fin he terminado el TFG, joder!",
)

ABUSE_INDIVIDUAL = (
    "Eres un idiota de manual y todo el hilo lo ve.",
    "Cállate ya, Kevin. Llevas equivocándote en todo desde 2015.",
    "Mi ex es un cabrón y un mentiroso.",
    "El que ha aparcado delante de mi cochera es un gilipollas egoísta.",
    "Mi jefe es un pelota sin personalidad, el lunes me largo.",
    "Bloquéame si quieres, cobarde.",
    "Tienes menos luces que un barco pirata.",
    "El vecino que me roba los paquetes es un sinvergüenza.",
    "Lucía, eres una víbora y toda la oficina lo sabe.",
    "Qué imbécil el tío que pone música a todo volumen en el tren.",
    "Eres tan tonto que duele leerte.",
    "Mi compañera de piso es una guarra que no ha fregado un plato en su vida.",
    "Dani, eres un mentiroso y un cobarde, y las capturas lo demuestran.",
    "El fontanero que me 'arregló' el fregadero es un chapuzas y un estafador.",
    "No me toques las narices, listillo.",
    "Nuestro nuevo jefe de equipo es un inútil creído.",
    "Eres el peor compañero de equipo que he tenido nunca.",
    "El tío que se me ha cruzado en la rotonda es un gilipollas de campeonato.",
    "Deja de escribirme, pesado.",
    "Mi cuñado es un bocazas que arruina todas las cenas de Navidad.",
)

SUITE = LanguageSuite(
    code="es",
    name="Spanish",
    groups=GROUPS,
    non_protected=NON_PROTECTED,
    fillers=FILLERS,
    hate_templates=HATE_TEMPLATES,
    contrast_templates=CONTRAST_TEMPLATES,
    non_protected_templates=NON_PROTECTED_TEMPLATES,
    posts={"profanity_untargeted": PROFANITY_UNTARGETED, "abuse_individual": ABUSE_INDIVIDUAL},
    conan=False,
)
