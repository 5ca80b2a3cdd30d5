package dev.keel.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Layering as a check (STYLE.md point 7): {@code http-api} → {@code *-actors} → {@code persistence},
 * one way; the workflow SDK stands alone; routes reach entities only through façades.
 */
@AnalyzeClasses(packages = "dev.keel",
    importOptions = {ImportOption.DoNotIncludeTests.class, ArchitectureTest.DoNotIncludeTestJars.class})
class ArchitectureTest {

  /** A reactor build outside {@code -am} puts other modules' test jars on the path: not production code either. */
  static final class DoNotIncludeTestJars implements ImportOption {
    @Override
    public boolean includes(Location location) {
      return !location.contains("-tests.jar");
    }
  }

  @ArchTest
  static final ArchRule persistenceKnowsNoModuleAboveIt = noClasses()
      .that().resideInAPackage("dev.keel.persistence..")
      .should().dependOnClassesThat().resideInAnyPackage(
          "dev.keel.workflow..", "dev.keel.registry..", "dev.keel.tenant..", "dev.keel.http..", "dev.keel.node..");

  @ArchTest
  static final ArchRule workflowKnowsNothingOfTheNode = noClasses()
      .that().resideInAPackage("dev.keel.workflow..")
      .should().dependOnClassesThat().resideInAnyPackage("dev.keel.http..", "dev.keel.node..");

  @ArchTest
  static final ArchRule sdkDependsOnNoOtherKeelCode = noClasses()
      .that().resideInAPackage("dev.keel.workflow.sdk..")
      .should().dependOnClassesThat(com.tngtech.archunit.base.DescribedPredicate.describe(
          "reside in dev.keel.. outside dev.keel.workflow.sdk..",
          (com.tngtech.archunit.core.domain.JavaClass c) -> c.getPackageName().startsWith("dev.keel.")
              && !(c.getPackageName().equals("dev.keel.workflow.sdk") || c.getPackageName().startsWith("dev.keel.workflow.sdk."))))
      .because("workflow authors compile against the SDK alone");

  @ArchTest
  static final ArchRule sdkDependsOnNoPekko = noClasses()
      .that().resideInAPackage("dev.keel.workflow.sdk..")
      .should().dependOnClassesThat().resideInAPackage("org.apache.pekko..")
      .because("workflow code must not see the actor system it runs on");

  @ArchTest
  static final ArchRule clientDependsOnNoOtherKeelCode = noClasses()
      .that().resideInAPackage("dev.keel.client..")
      .should().dependOnClassesThat(com.tngtech.archunit.base.DescribedPredicate.describe(
          "reside in dev.keel.. outside dev.keel.client..",
          (com.tngtech.archunit.core.domain.JavaClass c) -> c.getPackageName().startsWith("dev.keel.")
              && !(c.getPackageName().equals("dev.keel.client") || c.getPackageName().startsWith("dev.keel.client."))))
      .because("services embed the client: it must not drag the server in (ARCHITECTURE.md, modules)");

  @ArchTest
  static final ArchRule clientDependsOnNoPekko = noClasses()
      .that().resideInAPackage("dev.keel.client..")
      .should().dependOnClassesThat().resideInAnyPackage("org.apache.pekko..", "scala..", "com.typesafe..")
      .because("the client is the JDK's HttpClient and Jackson, nothing else");

  @ArchTest
  static final ArchRule cliTalksToKeelOnlyThroughTheClient = noClasses()
      .that().resideInAPackage("dev.keel.cli..")
      .should().dependOnClassesThat().resideInAnyPackage("dev.keel.http..", "dev.keel.node..", "dev.keel.workflow..",
          "dev.keel.registry..", "dev.keel.tenant..", "dev.keel.persistence..", "org.apache.pekko..")
      .because("the command line is a client of the HTTP API like any other");

  @ArchTest
  static final ArchRule httpReachesEntitiesOnlyThroughFaçades = noClasses()
      .that().resideInAPackage("dev.keel.http..")
      .should().dependOnClassesThat().resideInAPackage("org.apache.pekko.persistence..")
      .because("routes ask façades; journals and persistent behaviors are theirs");
}
